"""Database router: analyst reads to the replica when a view opted in (config/replica.py).

Returning None leaves Django's default, the primary: every write, every read outside an opted-in
view, and reads of models outside REPLICA_APPS (users, API tokens, sessions) even inside one, so
that a token issued a moment ago authenticates at once.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from config import replica


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if model._meta.app_label not in replica.REPLICA_APPS:
            return None
        return replica.read_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return True  # same data on both servers

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # A standby is read-only and gets its schema from the primary's WAL.
        return False if db == replica.REPLICA else None
