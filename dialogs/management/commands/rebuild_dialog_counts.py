from django.core.management.base import BaseCommand

from dialogs import services


class Command(BaseCommand):
    help = (
        "Recompute the per-(customer, language) counts of consented dialogs from the dialogs, "
        "repairing any drift (e.g. rows changed by hand in the database). Consents and erasures "
        "wait meanwhile, so none is counted twice or lost."
    )

    def handle(self, *args, **options) -> None:
        total = services.dialog_counts_rebuild()
        self.stdout.write(f"rebuilt the dialog counts: {total} consented dialogs")
