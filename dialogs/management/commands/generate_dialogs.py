"""Bulk demo/benchmark data: COPY straight into Postgres, counts kept exact batch by batch."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from dialogs import services
from dialogs.demo_text import DialogTextFactory
from dialogs.models import Dialog

Row = tuple[str, str, str, str, datetime, datetime | None]
COPY_SQL = (
    f"COPY {Dialog._meta.db_table} "
    "(dialog_id, customer_id, text, language, created_at, consented_at) FROM STDIN"
)


class Command(BaseCommand):
    help = (
        "Generate realistic dialogs fast (COPY). Consented ones spread over --days; unconsented "
        "ones are recent, within the consent TTL, so the purge task does not delete them at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=100)
        parser.add_argument("--dialogs", type=int, default=1000, help="total dialogs")
        parser.add_argument("--consented", type=int, default=500, help="of which consented")
        parser.add_argument("--days", type=int, default=90, help="age of the oldest consented")
        parser.add_argument("--batch", type=int, default=100_000, help="rows per transaction")
        parser.add_argument("--seed", type=int, default=None, help="repeatable content")

    def handle(self, *args: object, **opts: int) -> None:
        customers, total, consented = opts["customers"], opts["dialogs"], opts["consented"]
        if customers < 1 or total < 0 or opts["batch"] < 1 or opts["days"] < 1:
            raise CommandError("--customers, --batch and --days must be >= 1, --dialogs >= 0.")
        if not 0 <= consented <= total:
            raise CommandError("--consented must be between 0 and --dialogs.")
        started = time.monotonic()
        rows = self._rows(opts, random.Random(opts["seed"]))
        inserted = 0
        while inserted < total:
            inserted += self._copy_batch(rows, min(opts["batch"], total - inserted))
            self.stderr.write(f"  {inserted}/{total}")
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Dialog._meta.db_table}")  # fresh stats for the planner
        self.stdout.write(
            f"Inserted {total} dialogs ({consented} consented) for {customers} customers "
            f"in {time.monotonic() - started:.1f} s."
        )

    def _copy_batch(self, rows: Iterator[Row], size: int) -> int:
        """One transaction: the rows and their count deltas commit together, or not at all."""
        deltas: Counter[tuple[str, str]] = Counter()
        with transaction.atomic():
            with connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
                for _ in range(size):
                    row = next(rows)
                    copy.write_row(row)
                    if row[5] is not None:
                        deltas[(row[1], row[3])] += 1
            services.dialog_counts_add(deltas=deltas)
        return size

    def _rows(self, opts: dict, rng: random.Random) -> Iterator[Row]:
        """Consented rows first, then unconsented, each in ascending time: the indexes then grow
        at their right edge, which keeps COPY fast."""
        texts = DialogTextFactory(rng)
        run = uuid.uuid4().hex[:8]  # fresh ids on every run, even with the same --seed
        customers = [str(i) for i in range(1, opts["customers"] + 1)]
        now = timezone.now()
        ttl = timedelta(hours=settings.DIALOGS_CONSENT_TTL_HOURS)
        consented, unconsented = opts["consented"], opts["dialogs"] - opts["consented"]
        spans = [(consented, timedelta(days=opts["days"]), True), (unconsented, ttl * 0.8, False)]
        n = 0
        for count, span, is_consented in spans:
            start, step = now - span, span / max(count, 1)
            for i, language in enumerate(texts.languages_sample(count)):
                created = start + step * i
                yield (
                    f"{run}-{n}",
                    rng.choice(customers),
                    texts.text(language),
                    language,
                    created,
                    min(created + timedelta(minutes=5), now) if is_consented else None,
                )
                n += 1
