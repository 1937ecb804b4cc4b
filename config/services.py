"""Platform services: API identities and the demo set-up `make run` prints."""

import importlib
import logging
from collections.abc import Iterable
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core import serializers
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from rest_framework.authtoken.models import Token

from config.api import ROLES
from config.errors import ApplicationError

logger = logging.getLogger(__name__)
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
def demo_admin_ensure(
    *, username: str, password: str, reset: bool = False
) -> tuple[AbstractBaseUser, bool]:
    """Idempotent. Sets `password` on a new admin, or on an existing one when `reset`; returns
    (user, whether the password was set)."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    if created or reset:
        user.set_password(password)
        user.save(update_fields=["password"])
    user.groups.add(role_group("staff"))
    return user, created or reset


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


REFERENCE_FIXTURES = ("fixtures/tutor_1_taxonomy.json", "fixtures/tutor_2_exercises.json")


@transaction.atomic
def reference_data_load(*, paths: Iterable[Path]) -> int:
    """Idempotent: inserts the fixture rows whose primary key is missing, never updates one.

    Unlike `loaddata`, a row an admin edited keeps the edit across restarts. Returns how many
    rows were inserted; the sequences move past the fixture keys, as loaddata leaves them.
    """
    inserted = 0
    touched: set[type[Model]] = set()
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            objects = list(serializers.deserialize("json", stream))
        for item in objects:
            model = type(item.object)
            touched.add(model)
            if model._default_manager.filter(pk=item.object.pk).exists():
                continue
            try:
                with transaction.atomic():  # savepoint: an admin's row may hold a unique name
                    item.save()
                inserted += 1
            except IntegrityError:
                logger.warning("reference row %s %s conflicts; kept the existing one", model, item)
    _sequences_reset(touched)
    return inserted


def _sequences_reset(models: set[type[Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), sorted(models, key=str))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
