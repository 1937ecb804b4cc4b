# One image for every role: web (gunicorn), ws (daphne), worker and beat (celery), migrate.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN groupadd --system app && useradd --system --gid app --home /app app

COPY requirements.txt .
# Production dependencies only: tests, tooling and the embedded dev servers live in
# requirements-dev.txt, which the image never installs.
RUN pip install -r requirements.txt

COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/.data /tmp/prometheus && chown -R app:app /app/.data /tmp/prometheus

USER app
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
EXPOSE 8000 8001
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4"]
