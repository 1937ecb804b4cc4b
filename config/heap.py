"""Keep a server process's startup objects out of the garbage collector's full passes.

Importing Django, DRF, the URL conf and the apps leaves a few hundred thousand objects that
live as long as the process. CPython's full (generation 2) collection walks every one of them:
under the bench's load that paused a gunicorn worker for 80-130 ms every few seconds, a latency
spike for each request the worker was holding. `gc.freeze()` moves what is alive now into a
permanent generation the collector never walks; garbage made later is collected as before.
"""

from __future__ import annotations

import gc


def startup_heap_freeze() -> None:
    gc.collect()  # what is garbage already is freed, not frozen
    gc.freeze()
