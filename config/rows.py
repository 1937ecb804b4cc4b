"""Model instances from hand-written SQL, for the few statements on the hottest paths.

Building a query through the ORM costs about half a millisecond of CPU before anything reaches
Postgres (0.67 ms for the participant lookup below, against 0.11 ms written out): on a request
that makes three queries that is most of its time. Where a request runs at classroom rates, the
statement is written once as SQL and the rows become ordinary model instances here, so the rest
of the code does not know the difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model


def columns(model: type[Model], alias: str) -> str:
    """`alias.col, ...` for every concrete field, in the order `instances` reads them."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


def instances(values: Sequence[Any], *models: type[Model]) -> list[Any]:
    """One instance per model from a row that selected `columns(model, ...)` of each, in order.
    None for a model whose columns are all NULL (the missing side of a LEFT JOIN)."""
    found: list[Any] = []  # each a `models` instance or None: callers unpack them by model
    start = 0
    for model in models:
        fields = model._meta.concrete_fields
        part = values[start : start + len(fields)]
        start += len(fields)
        if all(v is None for v in part):
            found.append(None)
        else:
            found.append(model.from_db(DEFAULT_DB_ALIAS, [f.attname for f in fields], part))
    return found
