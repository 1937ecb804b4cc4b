"""The framework's ceiling: bare Django, no middleware, one view returning a small JSON object."""

SECRET_KEY = "bench-baseline-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.hello.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
