import os

from django.core.management.base import BaseCommand, CommandParser

from config.api import ROLES
from config.services import api_token_issue, demo_admin_ensure, demo_data_seed


class Command(BaseCommand):
    help = "Idempotent demo set-up: an admin, one API token per role, and each app's demo data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin-password", default="admin")

    def handle(self, *args: object, admin_password: str, **options: object) -> None:
        demo_admin_ensure(username="admin", password=admin_password)
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"Admin: http://localhost:{port}/admin/  user admin / {admin_password}")
        for role in ROLES:
            token = api_token_issue(username=f"demo-{role}", role=role)
            self.stdout.write(f"{role:>8} token: {token.key}")
        for line in demo_data_seed():
            self.stdout.write(line)
