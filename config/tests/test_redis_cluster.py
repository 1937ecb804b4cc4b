"""The data roles on a real Redis Cluster (`make test-slow`): 3 masters with a replica each.

The suites that prove the counters and boards (the exactly-once flush: crash points, overlap,
the randomised mix and concurrent flushes; the tutor's real-time reads and ingestion; the
leaderboard services and the websocket fan-out) run once more, unchanged, in a child pytest whose
DATA_REDIS_URL is the cluster. The cluster rejects a command or script whose declared keys span
slots, and redis-py's cluster client refuses to send one, so a green run means every script and
multi-key command of those paths is single-slot.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import override_settings
from redis.exceptions import RedisClusterException

from config import health
from config import redis as app_redis
from config.tests import redis_cluster, servers

pytestmark = pytest.mark.slow

SUITES = [
    "tutor/tests/test_flush_exactly_once.py",
    "tutor/tests/test_selectors.py",
    "tutor/tests/test_services.py",
    "tutor/tests/test_views.py",
    "tutor/tests/test_tasks.py",
    "tutor/tests/test_progress.py",
    "tutor/tests/test_ranking.py",
    "config/tests/test_throttling.py",
    "quizzes/tests/test_services.py",
    "quizzes/tests/test_views_board.py",
    "quizzes/tests/test_views_play.py",
    "quizzes/tests/test_consumers.py",
    "quizzes/tests/test_game_services.py",
    "quizzes/tests/test_game_answers.py",
    "quizzes/tests/test_game_consumers.py",
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[redis_cluster.RedisClusterServers]:
    with redis_cluster.redis_cluster() as running:
        yield running


@pytest.fixture
def on_cluster(cluster) -> Iterator[redis_cluster.RedisClusterServers]:
    """This process's data clients point at the cluster for the test."""
    with override_settings(DATA_REDIS_URL=cluster.url()):
        app_redis.forget_clients()
        try:
            yield cluster
        finally:
            app_redis.data_client().flushdb()
            app_redis.forget_clients()


def _child_database_url() -> str:
    """The child pytest creates its own test database (test_<name>_cluster)."""
    url = urlsplit(servers.current_database_url())
    name = url.path.lstrip("/").removeprefix("test_")
    return urlunsplit(url._replace(path=f"/{name}_cluster"))


def test_counter_and_leaderboard_suites_pass_on_a_redis_cluster(cluster):
    env = servers.app_env(
        DATABASE_URL=_child_database_url(),
        DATA_REDIS_URL=cluster.url(),
        TEST_DATA_REDIS_URL=cluster.url(),
    )
    cmd = [sys.executable, "-m", "pytest", *SUITES, "-q", "-m", "not slow"]
    cmd += ["-p", "no:cacheprovider"]
    # One event loop for the run, as a daphne process has: the async cluster client's start-up
    # (CLUSTER SLOTS, COMMAND: about 100 ms) is then paid once, not inside each consumer test's
    # one-second receive timeout.
    for kind in ("test", "fixture"):
        cmd += ["-o", f"asyncio_default_{kind}_loop_scope=session"]

    try:
        result = subprocess.run(
            cmd, cwd=servers.ROOT, env=env, capture_output=True, text=True, timeout=900
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the suites did not finish:\n{str(exc.stdout or '')[-6000:]}")

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert " failed" not in result.stdout


def test_data_client_is_a_cluster_client_spread_over_three_masters(on_cluster):
    client = app_redis.data_client()

    assert app_redis.data_is_cluster()
    assert not app_redis.data_shares_channel_layer()
    assert len(client.get_primaries()) == 3
    keys = [f"probe:{{{i}}}" for i in range(30)]
    for key in keys:
        client.set(key, "1")
    assert len({client.get_node_from_key(key).name for key in keys}) == 3


def test_cross_slot_script_is_refused_by_the_cluster_client(on_cluster):
    client = app_redis.data_client()

    with pytest.raises(RedisClusterException, match="same key slot"):
        client.eval("return redis.call('GET', KEYS[1])", 2, "a{one}", "b{two}")


@pytest.mark.django_db
def test_readyz_checks_the_data_cluster_separately(on_cluster, client):
    assert health._checks()["data_redis"] is True

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["data_redis"] == "ok"


def test_cluster_runs_persisted_and_replicated(cluster):
    for node in cluster.alive():
        assert node.client().config_get("appendonly")["appendonly"] == "yes"
    roles = sorted(node.role() for node in cluster.alive())
    assert roles == ["master"] * 3 + ["slave"] * 3
    assert os.path.exists(cluster.nodes[0].data_dir / "nodes.conf")
