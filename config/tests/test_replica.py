"""Replica routing in-process (config/replica.py, config/routers.py).

The "replica" here is a second connection to the test database: a server that is not in recovery,
which the health check treats as caught up. Which connection ran a query tells where a read went.
The streaming pair itself (lag, paused replay, a stopped standby) is in test_replica_streaming.py.
"""

from __future__ import annotations

import contextlib
import copy

import pytest
import redis
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from config import redis as app_redis
from config import replica
from config.routers import ReplicaRouter
from config.tests.servers import free_port
from dialogs import services as dialog_services
from dialogs.models import Dialog
from tutor.models import Learner
from tutor.tests.factories import LearnerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _forget_verdict() -> None:
    replica._last["verdict"] = replica.DOWN


@pytest.fixture
def mirror(transactional_db, django_db_blocker, monkeypatch):
    """Adds a `replica` alias on the test database; returns its settings (to break them).

    Django's test case lets a test connect only to the aliases it declared, and pytest-django
    declares only aliases configured at start; for this one added per test, the connection
    method is pytest-django's saved original, unpatched."""
    real = django_db_blocker._real_ensure_connection
    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", real)
    config = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    connections.settings[replica.REPLICA] = config
    _forget_verdict()
    yield config
    connections[replica.REPLICA].close()
    del connections[replica.REPLICA]
    del connections.settings[replica.REPLICA]
    _forget_verdict()


def _consented(dialog_id: str) -> Dialog:
    Dialog.objects.create(customer_id="c-1", dialog_id=dialog_id, text="hello", language="EN")
    return dialog_services.dialog_consent_record(dialog_id=dialog_id, granted=True)


def _list_queries(client, *, replica_up: bool = True) -> tuple[list[str], list[str], dict]:
    """GET /data/: (SQL run on the replica alias, SQL run on the primary, body). Capturing
    connects first, so a replica that is down is not captured."""
    with contextlib.ExitStack() as stack:
        on_replica = (
            stack.enter_context(CaptureQueriesContext(connections[replica.REPLICA]))
            if replica_up
            else None
        )
        on_primary = stack.enter_context(CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]))
        response = client.get("/data/")
    assert response.status_code == 200, response.content
    return (
        [q["sql"] for q in on_replica.captured_queries] if on_replica else [],
        [q["sql"] for q in on_primary.captured_queries],
        response.json(),
    )


def _dialog_sql(queries: list[str]) -> list[str]:
    return [sql for sql in queries if Dialog._meta.db_table in sql]


@pytest.mark.parametrize(
    ("standby", "replayed", "caught_up", "lag", "healthy"),
    [
        (False, 100, False, None, True),  # not in recovery: a primary, never behind itself
        (True, 100, True, 3600.0, True),  # idle primary: replayed all it received, streaming
        (True, 100, False, 4.9, True),
        (True, 100, False, 5.1, False),
        (True, 100, False, None, False),  # nothing replayed yet, not caught up
        (True, None, True, 0.0, False),  # no replay position: cannot check a fence
    ],
)
def test_verdict_from_status_lag_rules(standby, replayed, caught_up, lag, healthy):
    verdict = replica.verdict_from_status(
        standby=standby, replayed=replayed, caught_up=caught_up, lag=lag, max_lag=5.0
    )

    assert verdict.healthy is healthy


def test_router_sends_only_opted_in_app_reads_to_the_replica():
    router = ReplicaRouter()

    token = replica._read_alias.set(replica.REPLICA)
    try:
        inside = (router.db_for_read(Learner), router.db_for_read(Token))
        write = router.db_for_write(Learner)
    finally:
        replica._read_alias.reset(token)

    assert inside == (replica.REPLICA, None)
    assert write is None
    assert router.db_for_read(Learner) is None
    assert router.allow_migrate(replica.REPLICA, "tutor") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "tutor") is None


def test_replica_unconfigured_reads_and_erasures_stay_on_the_primary(analyst_client):
    _consented("d-1")

    dialog_services.dialog_consent_record(dialog_id="d-1", granted=False)
    response = analyst_client.get("/data/")

    assert response.status_code == 200
    assert replica.choose_alias() == DEFAULT_DB_ALIAS
    assert app_redis.client().get(replica.FENCE_KEY) is None


def test_dialog_list_reads_the_replica_and_auth_the_primary(mirror, analyst_client):
    _consented("d-1")

    on_replica, on_primary, body = _list_queries(analyst_client)

    assert body["count"] == 1
    assert _dialog_sql(on_replica)
    assert not _dialog_sql(on_primary)
    assert any(Token._meta.db_table in sql for sql in on_primary)


def test_learner_detail_reads_the_replica(mirror, analyst_client):
    learner = LearnerFactory()

    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        response = analyst_client.get(f"/api/users/{learner.id}")

    assert response.status_code == 200, response.content
    assert any(Learner._meta.db_table in q["sql"] for q in on_replica.captured_queries)


@pytest.mark.parametrize("view", ["progress", "attempts"])
def test_learner_progress_and_attempts_read_the_replica(mirror, analyst_client, view):
    learner = LearnerFactory()

    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        response = analyst_client.get(f"/api/users/{learner.id}/{view}")

    assert response.status_code == 200, response.content
    assert any("tutor_" in q["sql"] for q in on_replica.captured_queries)


def test_writes_and_generate_exercise_stay_on_the_primary(mirror, ingest_client, analyst_client):
    learner = LearnerFactory()

    with CaptureQueriesContext(connections[replica.REPLICA]) as on_replica:
        created = ingest_client.post(
            "/data/c-1/d-9", {"text": "hi", "language": "EN"}, format="json"
        )
        top = analyst_client.get(f"/api/generate-exercise?user_id={learner.id}")

    assert (created.status_code, top.status_code) == (201, 200)
    assert on_replica.captured_queries == []


def test_revocation_raises_the_fence_past_the_replicas_position(mirror, analyst_client):
    _consented("d-1")
    assert replica.choose_alias() == replica.REPLICA
    before = replica.replica_status().replayed

    dialog_services.dialog_consent_record(dialog_id="d-1", granted=False)

    assert replica.fence_read() > before


def test_unreplayed_fence_sends_the_list_to_the_primary(mirror, analyst_client):
    _consented("d-1")
    app_redis.client().set(replica.FENCE_KEY, 2**62)  # a position the replica has not reached

    on_replica, on_primary, body = _list_queries(analyst_client)

    assert body["count"] == 1
    assert _dialog_sql(on_primary)
    assert not _dialog_sql(on_replica)


def test_unreachable_replica_falls_back_to_the_primary(mirror, analyst_client):
    _consented("d-1")
    mirror["PORT"] = str(free_port())  # nothing listens there

    _, on_primary, body = _list_queries(analyst_client, replica_up=False)

    assert body["count"] == 1
    assert _dialog_sql(on_primary)
    assert replica.replica_status().healthy is False


def test_replica_failing_mid_request_is_answered_from_the_primary(mirror, analyst_client, settings):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600  # the request trusts the cached verdict
    _consented("d-1")
    assert replica.replica_status().healthy  # cached: the next request trusts it
    connections[replica.REPLICA].close()
    connections[replica.REPLICA].settings_dict["PORT"] = str(free_port())

    _, on_primary, body = _list_queries(analyst_client, replica_up=False)

    assert body["count"] == 1
    assert _dialog_sql(on_primary)
    assert replica._last["verdict"].healthy is False


@pytest.fixture
def redis_down(monkeypatch):
    """The app's Redis client pointed at a port nothing listens on."""
    dead = redis.Redis(port=free_port(), socket_timeout=0.5, socket_connect_timeout=0.5)
    monkeypatch.setattr(app_redis, "client", lambda: dead)


def test_fence_unreadable_sends_the_list_to_the_primary(mirror, analyst_client, redis_down):
    _consented("d-1")

    on_replica, on_primary, body = _list_queries(analyst_client)

    assert body["count"] == 1
    assert _dialog_sql(on_primary)
    assert not _dialog_sql(on_replica)


def test_revocation_that_cannot_record_the_fence_answers_503(mirror, ingest_client, redis_down):
    _consented("d-1")
    # A 5xx is reported through got_request_exception, which the test client would re-raise.
    ingest_client.raise_request_exception = False

    response = ingest_client.post("/consents/d-1", False, format="json")

    assert response.status_code == 503, response.content
    assert response.json()["errors"][0]["code"] == "redis_unavailable"
    assert not Dialog.objects.filter(dialog_id="d-1").exists()  # the erasure itself committed
