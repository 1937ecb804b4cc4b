"""Server processes freeze their startup heap (config/heap.py), so full GC passes stay short."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

PROBE = """
import gc, importlib, sys
importlib.import_module(sys.argv[1])
print(gc.get_freeze_count(), len(gc.get_objects(generation=2)))
"""


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_server_entry_points_leave_the_startup_heap_frozen(entry_point):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, entry_point],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    frozen, still_walked = map(int, result.stdout.split()[-2:])

    assert frozen > 50_000  # Django, DRF and the apps: out of every full collection
    assert still_walked < frozen / 100
