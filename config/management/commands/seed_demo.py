import os
import secrets

from django.core.management.base import BaseCommand, CommandParser

from config.api import ROLES
from config.services import api_token_issue, demo_admin_ensure, demo_data_seed


class Command(BaseCommand):
    help = (
        "Idempotent demo set-up: an admin, one API token per role, and each app's demo data. "
        "The admin's password is DJANGO_SUPERUSER_PASSWORD, or a random one printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-admin-password",
            action="store_true",
            help="Set the password of an existing admin too (default: only a new admin's).",
        )

    def handle(self, *args: object, reset_admin_password: bool, **options: object) -> None:
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        user, password_set = demo_admin_ensure(
            username="admin", password=password, reset=reset_admin_password
        )
        port = os.environ.get("PORT", "8000")
        shown = password if password_set or user.check_password(password) else "(unchanged)"
        self.stdout.write(f"Admin: http://localhost:{port}/admin/  user admin / {shown}")
        for role in ROLES:
            token = api_token_issue(username=f"demo-{role}", role=role)
            self.stdout.write(f"{role:>8} token: {token.key}")
        for line in demo_data_seed():
            self.stdout.write(line)
