from django.core.management.base import BaseCommand

from tutor import services


class Command(BaseCommand):
    help = (
        "Recompute the per-day error aggregates from the error rows. Pending Redis counters and "
        "unapplied snapshots are discarded (the rows already hold those errors); flushes wait "
        "meanwhile. Exact when no ingestion request is in flight at the cut."
    )

    def handle(self, *args, **options) -> None:
        rows = services.error_counts_rebuild()
        self.stdout.write(f"rebuilt {rows} aggregate rows")
