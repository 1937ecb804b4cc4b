"""The flush run: recover leftovers, then batches of move -> read -> apply -> delete, then fold."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from tutor.counters import Tally
from tutor.flush import apply, fold, recovery, snapshot


@dataclass
class FlushResult:
    batches: int = 0
    learners: int = 0
    increments: int = 0
    recovered: int = 0
    folded: int = 0

    def add_batch(self, learners: int, increments: int) -> None:
        self.batches += 1
        self.learners += learners
        self.increments += increments


def error_counts_flush(
    *, batch_size: int | None = None, max_batches: int = 1000, workers: int | None = None
) -> FlushResult:
    """Beat entry point. Safe to run concurrently with itself, and to re-run after any crash.

    With workers > 1, batches are applied by a small thread pool (each its own connection and
    transaction) while the next batch is moved and parsed: Postgres then uses more than one
    core. Safe for the same reasons overlapping flushes are; a failed batch stays registered
    for the next run, and the first error is re-raised after the others finished.
    """
    batch_size = batch_size or settings.TUTOR_FLUSH_BATCH
    workers = workers or settings.TUTOR_FLUSH_WORKERS
    result = FlushResult(recovered=recovery.snapshots_recover())
    if workers <= 1:
        _flush_sequential(result, batch_size=batch_size, max_batches=max_batches)
    else:
        _flush_parallel(result, batch_size=batch_size, max_batches=max_batches, workers=workers)
    result.folded = fold.uncounted_fold()
    recovery.ledger_prune()
    return result


def _moved_batches(*, batch_size: int, max_batches: int) -> Iterator[tuple[str, dict[str, Tally]]]:
    """Batches moved aside and read, shard after shard, each shard until it has no dirty
    learner left; at most `max_batches` moves in all."""
    left = max_batches
    for shard in snapshot.dirty_shards():
        while left > 0:
            left -= 1
            flush_id = snapshot.new_flush_id(shard)
            if not snapshot.snapshot_move(flush_id=flush_id, limit=batch_size):
                break
            yield flush_id, snapshot.snapshot_read(flush_id=flush_id)


def _apply_and_delete(flush_id: str, tallies: dict[str, Tally]) -> tuple[int, int]:
    apply.snapshot_apply(flush_id=flush_id, tallies=tallies)
    snapshot.snapshot_delete(flush_id=flush_id)
    return len(tallies), apply.increments(tallies)


def _apply_in_thread(flush_id: str, tallies: dict[str, Tally]) -> tuple[int, int]:
    try:
        return _apply_and_delete(flush_id, tallies)
    finally:
        connection.close()  # this thread's own connection


def _flush_sequential(result: FlushResult, *, batch_size: int, max_batches: int) -> None:
    for flush_id, tallies in _moved_batches(batch_size=batch_size, max_batches=max_batches):
        result.add_batch(*_apply_and_delete(flush_id, tallies))


def _flush_parallel(
    result: FlushResult, *, batch_size: int, max_batches: int, workers: int
) -> None:
    running: set[futures.Future[tuple[int, int]]] = set()
    done: list[futures.Future[tuple[int, int]]] = []
    with futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for flush_id, tallies in _moved_batches(batch_size=batch_size, max_batches=max_batches):
            if len(running) >= workers:  # bound memory: at most `workers` batches in flight
                finished, running = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                done.extend(finished)
            running.add(pool.submit(_apply_in_thread, flush_id, tallies))
    for future in [*done, *running]:
        result.add_batch(*future.result())
