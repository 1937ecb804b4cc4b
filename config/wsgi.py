import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.heap import startup_heap_freeze  # noqa: E402

startup_heap_freeze()  # last: after everything a worker loads at start
