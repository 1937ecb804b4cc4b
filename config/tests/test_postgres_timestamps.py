"""Timestamps come back through psycopg's own loader, exactly as Django's own loader gives them."""

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from psycopg.pq import Format

from config.postgres.base import TIMESTAMPTZ, UtcTimestamptzLoader

VALUES = [
    "2026-03-29 00:59:59.999999+00",  # just before a European DST change
    "2026-03-29 03:00:00+02",
    "1999-12-31 23:59:59.5-08",
    "0044-03-15 12:00:00+00",
    "2026-12-03 08:00:00+05:30",
]


def _read_all(cursor) -> list[datetime.datetime]:
    sql = " UNION ALL ".join("SELECT %s::timestamptz" for _ in VALUES)
    cursor.execute(sql, VALUES)
    return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_django_connections_load_timestamps_with_the_fast_loader():
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)

    assert loader is UtcTimestamptzLoader


@pytest.mark.django_db
def test_timestamps_equal_what_djangos_loader_returns_with_the_same_time_zone():
    with connection.cursor() as cursor:
        fast = _read_all(cursor)
        djangos = get_adapters_template(True, datetime.UTC).get_loader(TIMESTAMPTZ, Format.TEXT)
        cursor.cursor.adapters.register_loader("timestamptz", djangos)
        reference = _read_all(cursor)

    assert fast == reference
    assert [v.tzinfo for v in fast] == [datetime.UTC] * len(VALUES)
    assert [v.utcoffset() for v in fast] == [datetime.timedelta(0)] * len(VALUES)
    assert fast[2] == datetime.datetime(2000, 1, 1, 7, 59, 59, 500000, tzinfo=datetime.UTC)
