from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from config.services import REFERENCE_FIXTURES, reference_data_load


class Command(BaseCommand):
    help = (
        "Inserts the reference data (error taxonomy, exercises) that is missing; never "
        "overwrites a row that exists, so edits made in the admin survive. Safe on every start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("fixtures", nargs="*", help=f"default: {' '.join(REFERENCE_FIXTURES)}")

    def handle(self, *args: object, fixtures: list[str], **options: object) -> None:
        paths = [Path(settings.BASE_DIR, name) for name in fixtures or REFERENCE_FIXTURES]
        inserted = reference_data_load(paths=paths)
        self.stdout.write(f"reference data: {inserted} missing rows inserted")
