from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.api import ROLES
from config.errors import ApplicationError
from config.services import api_token_issue


class Command(BaseCommand):
    help = "Create the user if needed, give it a role, and print its API token on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)

    def handle(self, *args: object, username: str, role: str, **options: object) -> None:
        try:
            token = api_token_issue(username=username, role=role)
        except ApplicationError as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stderr.write(f"{username} has the {role} role. Send: Authorization: Token <key>")
        self.stdout.write(token.key)
