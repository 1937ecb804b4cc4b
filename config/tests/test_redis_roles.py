"""REDIS_URL and DATA_REDIS_URL: which client each role gets (no cluster needed here)."""

from config import redis as app_redis


def test_cluster_url_names_every_node_credentials_and_tls():
    parsed = app_redis._cluster_url("rediss+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001")

    assert parsed is not None
    assert parsed.nodes == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert (parsed.tls, parsed.username, parsed.password) == (True, "u", "p@ss")


def test_plain_urls_are_not_cluster_urls():
    assert app_redis._cluster_url("redis://127.0.0.1:6379/0") is None
    assert app_redis._cluster_url("rediss://example.com:6380/1") is None


def test_data_redis_url_defaults_to_redis_url(settings):
    settings.DATA_REDIS_URL = ""

    assert app_redis.data_url() == settings.REDIS_URL
    assert app_redis.data_shares_channel_layer()
    assert not app_redis.data_is_cluster()


def test_separate_data_redis_does_not_share_the_channel_layer(settings):
    settings.DATA_REDIS_URL = "redis+cluster://127.0.0.1:7000"

    assert app_redis.data_is_cluster()
    assert not app_redis.data_shares_channel_layer()
