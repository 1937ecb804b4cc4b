"""Row 8: bytes on disk per stored row (heap, TOAST and every index) of the tables that grow
with traffic, measured on the bench database after the ingestion row: the capacity model turns
them into Postgres storage per day."""

from __future__ import annotations

from django.db import connection

from bench import report
from dialogs.models import Dialog
from tutor.models import LearnerError, Utterance

TABLES = {"utterance": Utterance, "error": LearnerError, "dialog": Dialog}


def bytes_per_row() -> dict[str, tuple[float, int]]:
    """name -> (bytes per row, rows)."""
    found = {}
    with connection.cursor() as cursor:
        for name, model in TABLES.items():
            table = model._meta.db_table
            cursor.execute(f"SELECT pg_total_relation_size(%s), count(*) FROM {table}", [table])
            size, rows = cursor.fetchone()
            found[name] = (size / max(1, rows), rows)
    return found


def row(table: report.Table, log) -> None:
    log("row 8: bytes per stored row")
    sizes = bytes_per_row()
    measured = ", ".join(
        f"{name} {per_row:,.0f} B ({rows:,} rows)" for name, (per_row, rows) in sizes.items()
    )
    log(f"  {measured}")
    table.add("8", "storage", "`pg_total_relation_size` (heap, TOAST, indexes) / rows of each "
              "growing table, after rows 1-3", "reported", measured, None)  # fmt: skip
