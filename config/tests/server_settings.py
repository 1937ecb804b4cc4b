"""Settings for the fault tests' app servers: `config.settings`, with static files served from
the apps' folders (the tests run before, or without, `collectstatic`)."""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
