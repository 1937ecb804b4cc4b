"""Erasing a dialog leaves no copy of its text anywhere: Postgres, Redis or the logs.

Each test stores a dialog with a unique marker through the API, consents, reads it back (so any
cache would be warm), erases it one of the three ways, then searches every table row, every
Redis value and everything logged or printed for the marker. Real commits (transaction=True):
after-commit work runs as it does in production.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from config.services import api_token_issue

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "erasure-customer"


def postgres_tables_holding(marker: str) -> list[str]:
    """Every base table whose rows, cast whole to text (all columns: text, varchar, json, arrays),
    contain `marker`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        tables = cursor.fetchall()
        found = []
        for schema, table in tables:
            name = f"{connection.ops.quote_name(schema)}.{connection.ops.quote_name(table)}"
            cursor.execute(
                f"SELECT count(*) FROM {name} AS t WHERE t::text LIKE %s", [f"%{marker}%"]
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def _redis_urls() -> set[str]:
    """Every Redis database the app writes to: its own keys, the cache, Celery, channels."""
    urls = {settings.REDIS_URL, settings.CACHES["default"]["LOCATION"], settings.CELERY_BROKER_URL}
    for layer in settings.CHANNEL_LAYERS.values():
        urls.update(
            host for host in layer.get("CONFIG", {}).get("hosts", []) if isinstance(host, str)
        )
    return urls


def _values(client: redis.Redis, key: bytes) -> Iterator[bytes]:
    kind = client.type(key)
    if kind == b"string":
        yield client.get(key) or b""
    elif kind == b"hash":
        for field, value in client.hgetall(key).items():
            yield field
            yield value
    elif kind == b"list":
        yield from client.lrange(key, 0, -1)
    elif kind == b"set":
        yield from client.smembers(key)
    elif kind == b"zset":
        yield from client.zrange(key, 0, -1)
    elif kind == b"stream":
        for _id, fields in client.xrange(key):
            for field, value in fields.items():
                yield field
                yield value


def redis_keys_holding(marker: str) -> list[str]:
    """Keys whose name or any value (pickled cache entries included: pickle keeps str as UTF-8)
    contains `marker`, in every Redis database the app uses."""
    needle = marker.encode()
    found = []
    for url in sorted(_redis_urls()):
        client = redis.Redis.from_url(url)  # raw bytes: cache values are pickles, not text
        try:
            for key in client.scan_iter(count=1000):
                if needle in key or any(needle in value for value in _values(client, key)):
                    found.append(f"{url} {key!r}")
        finally:
            client.close()
    return found


@pytest.fixture
def clients() -> dict[str, APIClient]:
    made = {}
    for role in ("ingest", "analyst"):
        client = APIClient()
        key = api_token_issue(username=f"erasure-{role}", role=role).key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        made[role] = client
    return made


def _revoke(ingest: APIClient, dialog_id: str):
    return ingest.post(f"/consents/{dialog_id}", False, format="json")


def _delete_dialog(ingest: APIClient, dialog_id: str):
    return ingest.delete(f"/data/{CUSTOMER}/{dialog_id}")


def _delete_customer(ingest: APIClient, dialog_id: str):
    return ingest.delete(f"/data/{CUSTOMER}")


@pytest.mark.parametrize(
    ("erase", "status"),
    [(_revoke, 200), (_delete_dialog, 204), (_delete_customer, 200)],
    ids=["consent-revoked", "dialog-deleted", "customer-deleted"],
)
def test_erasure_leaves_no_copy_of_the_text(clients, caplog, capfd, erase: Callable, status: int):
    caplog.set_level(logging.DEBUG)  # everything any logger emits, not only what is shown
    marker = f"marker-{uuid.uuid4().hex}"
    dialog_id = f"dlg-{uuid.uuid4().hex[:12]}"
    ingest, analyst = clients["ingest"], clients["analyst"]
    text = f"My secret is {marker}, please forget it."

    created = ingest.post(f"/data/{CUSTOMER}/{dialog_id}", {"text": text, "language": "EN"})
    consented = ingest.post(f"/consents/{dialog_id}", True, format="json")
    listed = analyst.get("/data", {"customerId": CUSTOMER})
    read = analyst.get(f"/data/{CUSTOMER}/{dialog_id}")
    held_before = postgres_tables_holding(marker)
    erased = erase(ingest, dialog_id)

    assert [r.status_code for r in (created, consented, listed, read)] == [201, 200, 200, 200]
    assert marker in read.json()["text"]
    assert held_before == ["dialogs_dialog"]  # the search does find it while it is stored
    assert erased.status_code == status
    assert analyst.get(f"/data/{CUSTOMER}/{dialog_id}").status_code == 404
    assert marker not in analyst.get("/metrics").content.decode()
    assert postgres_tables_holding(marker) == []
    assert redis_keys_holding(marker) == []
    logged = [str(vars(record)) for record in caplog.records]
    assert logged, "the access log should have recorded the requests"
    assert not [line for line in logged if marker in line]
    out, err = capfd.readouterr()
    assert marker not in out
    assert marker not in err


def test_redis_search_finds_a_marker_in_every_value_type():
    """The search above is only as good as its coverage: plant the marker in each type."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    marker = f"marker-{uuid.uuid4().hex}"
    client.set("erasure:string", f"x{marker}x")
    client.hset("erasure:hash", "field", marker)
    client.rpush("erasure:list", marker)
    client.sadd("erasure:set", marker)
    client.zadd("erasure:zset", {marker: 1})
    client.xadd("erasure:stream", {"f": marker})

    found = redis_keys_holding(marker)

    assert len(found) == 6, found
    client.close()
