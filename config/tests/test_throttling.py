import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config import redis as app_redis
from config.throttling import ScopedRedisRateThrottle


class View:
    throttle_scope = "probe"


@pytest.fixture
def throttle(monkeypatch, fresh_throttle_window):
    monkeypatch.setattr(ScopedRedisRateThrottle, "THROTTLE_RATES", {"probe": "3/min"})
    return ScopedRedisRateThrottle()


def anonymous_request(ip: str = "10.0.0.1") -> Request:
    request = Request(APIRequestFactory().get("/", REMOTE_ADDR=ip))
    request.user = AnonymousUser()
    return request


def test_throttle_admits_the_rate_then_refuses_with_a_wait(throttle):
    verdicts = [throttle.allow_request(anonymous_request(), View()) for _ in range(4)]

    assert verdicts == [True, True, True, False]
    assert 0 < throttle.wait() <= 60


def test_throttle_counts_each_client_apart(throttle):
    for _ in range(3):
        throttle.allow_request(anonymous_request("10.0.0.1"), View())

    assert throttle.allow_request(anonymous_request("10.0.0.2"), View()) is True


def test_throttle_keeps_one_expiring_counter_per_window(throttle):
    throttle.allow_request(anonymous_request(), View())

    keys = app_redis.client().keys("throttle_probe_*")
    assert len(keys) == 1
    assert app_redis.client().get(keys[0]) == "1"
    assert 0 < app_redis.client().ttl(keys[0]) <= 61


def test_throttle_fails_open_when_redis_is_down(throttle):
    app_redis.client.cache_clear()
    try:
        with override_settings(REDIS_URL="redis://127.0.0.1:1/0", REDIS_SOCKET_TIMEOUT=0.2):
            allowed = [throttle.allow_request(anonymous_request(), View()) for _ in range(5)]
    finally:
        app_redis.client.cache_clear()

    assert allowed == [True] * 5


def test_view_without_scope_is_not_throttled(throttle):
    class Unscoped:
        pass

    assert all(throttle.allow_request(anonymous_request(), Unscoped()) for _ in range(10))


@pytest.mark.parametrize(
    "failure",
    [ValueError("I/O operation on closed file."), OSError(9, "Bad file descriptor")],
    ids=["closed-file", "bad-fd"],
)
def test_throttle_fails_open_on_a_connection_dropped_mid_call(throttle, monkeypatch, failure):
    class DroppedPipeline:
        def incr(self, key: str) -> None: ...

        def expire(self, key: str, seconds: int) -> None: ...

        def execute(self) -> None:
            raise failure

    class DroppedClient:
        def pipeline(self, transaction: bool) -> DroppedPipeline:
            return DroppedPipeline()

    monkeypatch.setattr(app_redis, "client", lambda: DroppedClient())

    assert throttle.allow_request(anonymous_request(), View()) is True


@pytest.fixture
def fast_throttle(monkeypatch):
    """A chat-backend rate: permits are leased in blocks of rate / LEASE_FRACTION (here 5)."""
    monkeypatch.setattr(ScopedRedisRateThrottle, "THROTTLE_RATES", {"probe": "5000/min"})
    ScopedRedisRateThrottle.forget_leases()
    yield ScopedRedisRateThrottle()
    ScopedRedisRateThrottle.forget_leases()


def _window_count() -> int:
    (key,) = app_redis.client().keys("throttle_probe_*")
    return int(app_redis.client().get(key))


def test_high_rate_throttle_takes_permits_in_blocks_not_one_call_per_request(fast_throttle):
    verdicts = [fast_throttle.allow_request(anonymous_request(), View()) for _ in range(12)]

    assert verdicts == [True] * 12
    assert _window_count() == 15  # three blocks of five: 3 Redis calls for 12 requests


def test_high_rate_throttle_never_admits_more_than_the_rate(fast_throttle):
    fast_throttle.allow_request(anonymous_request(), View())
    (key,) = app_redis.client().keys("throttle_probe_*")
    app_redis.client().set(key, 4998)  # other processes took all but two permits
    ScopedRedisRateThrottle.forget_leases()  # this process holds none of them

    verdicts = [fast_throttle.allow_request(anonymous_request(), View()) for _ in range(6)]

    assert verdicts == [True, True, False, False, False, False]
    assert _window_count() == 5008  # the refusals after the first cost no Redis call
