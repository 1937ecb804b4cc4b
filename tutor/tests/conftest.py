import contextlib

import pytest
from django.core.management import call_command

from tutor import counters, readcache, taxonomy


@pytest.fixture
def tax(db):
    """The real taxonomy and exercises, as `make run` loads them."""
    call_command(
        "loaddata", "fixtures/tutor_1_taxonomy.json", "fixtures/tutor_2_exercises.json", verbosity=0
    )
    taxonomy.taxonomy_forget()
    yield taxonomy.taxonomy_get()
    taxonomy.taxonomy_forget()


@pytest.fixture(autouse=True)
def _sequential_flush(settings):
    """Worker threads commit on their own connections, outside the test's transaction; the
    tests that want them run with transaction=True and pass workers explicitly."""
    settings.TUTOR_FLUSH_WORKERS = 1


@pytest.fixture(autouse=True)
def _fresh_caches():
    taxonomy.taxonomy_forget()
    counters.client.cache_clear()
    readcache.clear()
    yield
    counters.client.cache_clear()


@pytest.fixture
def redis_down(settings):
    """Points the tutor's Redis client at a port nobody listens on: a real connection failure."""

    @contextlib.contextmanager
    def _down():
        real = settings.REDIS_URL, settings.DATA_REDIS_URL
        settings.REDIS_URL = settings.DATA_REDIS_URL = "redis://127.0.0.1:1/0"
        counters.client.cache_clear()
        try:
            yield
        finally:
            settings.REDIS_URL, settings.DATA_REDIS_URL = real
            counters.client.cache_clear()

    return _down


@pytest.fixture
def sub(tax):
    """Subcategory id by "Category/Subcategory" label, e.g. sub("Grammar", "Tense")."""

    def _sub(category: str, name: str) -> int:
        return taxonomy.subcategory_resolve(category=category, subcategory=name).id

    return _sub


@pytest.fixture
def learner(db):
    from tutor.tests.factories import LearnerFactory

    return LearnerFactory()


@pytest.fixture
def conversation(learner):
    from tutor.tests.factories import ConversationFactory

    return ConversationFactory(learner=learner)
