"""Platform services: API identities and the demo set-up `make run` prints."""

import importlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from config.api import ROLES
from config.errors import ApplicationError

DEMO_APPS = ("tutor", "dialogs", "quizzes")


def role_group(role: str) -> Group:
    """The migration creates the role groups; get_or_create survives a flushed database too."""
    group, _ = Group.objects.get_or_create(name=role)
    return group


@transaction.atomic
def api_token_issue(*, username: str, role: str) -> Token:
    """Idempotent: creates the user if needed, adds the role, returns the user's one token."""
    if role not in ROLES:
        raise ApplicationError("unknown_role", f"Role must be one of {ROLES}.", attr="role")
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.groups.add(role_group(role))
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def demo_admin_ensure(*, username: str, password: str) -> AbstractBaseUser:
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    user.groups.add(role_group("staff"))
    return user


def demo_data_seed() -> list[str]:
    """Runs each app's optional `demo.seed()`; returns the lines they want printed."""
    lines: list[str] = []
    for app in DEMO_APPS:
        try:
            demo = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            continue
        lines.extend(demo.seed())
    return lines
