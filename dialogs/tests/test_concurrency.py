"""Real concurrent transactions (threads, each with its own Postgres connection)."""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from config.errors import ApplicationError
from dialogs import selectors, services
from dialogs.models import Dialog
from dialogs.tests.factories import DialogFactory

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target: Callable[[], object]) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except Exception as exc:  # handed to the test thread, which asserts on it
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_for_lock_waiter(timeout: float = 10) -> None:
    """Blocks until some backend waits on a lock: the other thread reached its INSERT."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no backend ever waited on a lock")


@pytest.mark.parametrize(("text", "outcome"), [("same", "returns"), ("different", "conflict")])
def test_dialog_create_racing_an_uncommitted_insert_never_fails_with_500(text, outcome):
    inserted, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with transaction.atomic():
            Dialog.objects.create(customer_id="1", dialog_id="d1", text="same", language="EN")
            inserted.set()
            release.wait(10)

    writer, _ = in_thread(first_writer)
    inserted.wait(10)
    racer, result = in_thread(
        lambda: services.dialog_create(customer_id="1", dialog_id="d1", text=text, language="EN")
    )
    wait_for_lock_waiter()  # the racer saw no row, so its INSERT waits on the unique index
    release.set()
    writer.join(10)
    racer.join(10)

    if outcome == "returns":
        dialog, created = result["value"]
        assert created is False
        assert dialog.pk == Dialog.objects.get().pk
    else:
        assert isinstance(result["error"], ApplicationError)
        assert result["error"].status_code == 409
    assert Dialog.objects.count() == 1


def test_list_snapshot_is_repeatable_read():
    with selectors._one_snapshot(), connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        level = cursor.fetchone()[0]

    assert level == "repeatable read"


def test_revocation_racing_the_list_never_shows_erased_dialogs_and_count_agrees():
    dialog_ids = []
    for n in range(60):
        dialog = DialogFactory(dialog_id=f"d{n}", customer_id=str(n % 3))
        services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=True)
        dialog_ids.append(dialog.dialog_id)
    revoked: list[str] = []  # appended only after each revocation committed
    done = threading.Event()

    def revoke_all() -> None:
        for dialog_id in dialog_ids[::2]:
            services.dialog_consent_record(dialog_id=dialog_id, granted=False)
            revoked.append(dialog_id)
        done.set()

    def list_until_done() -> int:
        rounds = 0
        while not done.is_set() or rounds < 5:
            committed_before = set(revoked)
            for customer_id in (None, "1"):
                page = selectors.dialogs_page(
                    language=None, customer_id=customer_id, cursor=None, size=1000
                )
                listed = {d.dialog_id for d in page.dialogs}
                assert not listed & committed_before, listed & committed_before
                assert page.count == len(page.dialogs)
            rounds += 1
        return rounds

    writer, _ = in_thread(revoke_all)
    reader, read = in_thread(list_until_done)
    writer.join(30)
    reader.join(30)

    assert "error" not in read, read.get("error")
    assert read["value"] >= 5
    final = selectors.dialogs_page(language=None, customer_id=None, cursor=None, size=1000)
    assert final.count == len(final.dialogs) == 30
    assert {d.dialog_id for d in final.dialogs} == set(dialog_ids[1::2])
