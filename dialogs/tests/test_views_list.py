"""GET /data/: consented only, newest first, filters, exact count, keyset pages, query pins."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.testing import assert_error
from dialogs import cursors, services

pytestmark = pytest.mark.django_db


def walk(client, url):
    """Follows `next` to the end; returns every page's body."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1]["next"]
    return pages


def ids(body):
    return [d["dialogId"] for d in body["results"]]


@pytest.mark.parametrize("path", ["/data", "/data/"])
def test_list_shows_only_consented_newest_first(
    analyst_client, dialog_factory, consented_dialog, path
):
    now = timezone.now()
    consented_dialog(dialog_id="old", created_at=now - timedelta(hours=2))
    consented_dialog(dialog_id="new", created_at=now - timedelta(hours=1))
    dialog_factory(dialog_id="pending", created_at=now)

    response = analyst_client.get(path)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["next"] is None
    assert body["previous"] is None
    assert ids(body) == ["new", "old"]
    assert set(body["results"][0]) == {"customerId", "dialogId", "text", "language", "createdAt"}


def test_list_filters_combine_with_and_and_count_is_exact(analyst_client, consented_dialog):
    for n, (customer, language) in enumerate([("1", "EN")] * 3 + [("1", "DE")] * 2 + [("2", "EN")]):
        consented_dialog(dialog_id=f"d{n}", customer_id=customer, language=language)

    def count(query):
        body = analyst_client.get(f"/data/?{query}").json()
        assert body["count"] == len(body["results"])
        return body["count"]

    assert count("") == 6
    assert count("language=EN") == 4
    assert count("language=de") == 2
    assert count("customerId=1") == 5
    assert count("customerId=1&language=EN") == 3
    assert count("customerId=2&language=DE") == 0


@pytest.mark.parametrize("query", ["customerId=nobody", "language=fr&customerId=1"])
def test_list_unknown_filter_values_give_empty_results(analyst_client, consented_dialog, query):
    consented_dialog(customer_id="1", language="EN")

    body = analyst_client.get(f"/data/?{query}").json()

    assert body == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    ("query", "attr"),
    [
        ("language=XX", "language"),
        ("language=zz", "language"),
        ("language=ENG", "language"),
        ("language=1", "language"),
        ("language=e%20", "language"),
        ("customerId=a%20b", "customerId"),
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_size=-5", "page_size"),
        ("page_size=ten", "page_size"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_list_malformed_parameters_are_400(analyst_client, query, attr):
    assert_error(analyst_client.get(f"/data/?{query}"), status=400, attr=attr)


def test_list_unknown_language_is_400_like_on_post(analyst_client):
    body = assert_error(analyst_client.get("/data/?language=zz"), status=400, attr="language")

    assert body["errors"][0]["code"] == "unknown_language"
    assert body["errors"][0]["detail"] == "ZZ is not an ISO 639-1 language code."


def test_list_tampered_cursor_is_400(analyst_client, consented_dialog):
    for n in range(3):
        consented_dialog(dialog_id=f"d{n}")
    token = parse_qs(urlsplit(analyst_client.get("/data/?page_size=1").json()["next"]).query)[
        "cursor"
    ][0]
    forged = cursors.encode(cursors.Cursor(timezone.now(), 1)).split(":")[0] + token[-10:]

    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), forged):
        assert_error(analyst_client.get(f"/data/?cursor={bad}"), status=400, code="invalid_cursor")


def test_list_page_size_default_100_and_up_to_1000(analyst_client, consented_dialog):
    for n in range(101):
        consented_dialog(dialog_id=f"d{n}")

    default = analyst_client.get("/data/").json()
    large = analyst_client.get("/data/?page_size=1000").json()

    assert len(default["results"]) == 100
    assert default["next"]
    assert len(large["results"]) == 101
    assert large["next"] is None


def test_list_next_is_absolute_and_keeps_filters_and_page_size(analyst_client, consented_dialog):
    for n in range(3):
        consented_dialog(dialog_id=f"d{n}", customer_id="7", language="DE")

    body = analyst_client.get("/data?language=de&customerId=7&page_size=2").json()

    parts = urlsplit(body["next"])
    query = parse_qs(parts.query)
    assert parts.scheme == "http"
    assert parts.netloc == "testserver"
    assert parts.path == "/data"
    assert query["language"] == ["de"]
    assert query["customerId"] == ["7"]
    assert query["page_size"] == ["2"]
    assert query["cursor"]


def test_list_walk_has_no_repeats_or_gaps_while_dialogs_arrive(
    analyst_client, consented_dialog, dialog_factory
):
    start = timezone.now() - timedelta(days=1)
    # Ties on created_at on purpose: the id breaks them, across page boundaries too.
    expected = [
        consented_dialog(dialog_id=f"d{n}", created_at=start + timedelta(minutes=n // 4)).dialog_id
        for n in range(53)
    ]
    late_old = dialog_factory(dialog_id="late-old", created_at=start - timedelta(days=1))
    seen, url, page = [], "/data/?page_size=10", 0
    while url:
        body = analyst_client.get(url).json()
        seen += ids(body)
        url, page = body["next"], page + 1
        consented_dialog(dialog_id=f"new-{page}")  # newer than the walk's position: not seen
        if page == 2:  # consented now but created long ago: lies ahead, so it is seen once
            services.dialog_consent_record(dialog_id=late_old.dialog_id, granted=True)

    assert len(seen) == len(set(seen))
    assert set(seen) == {*expected, "late-old"}
    assert seen[:-1] == list(reversed(expected))


def test_list_previous_walks_back_to_the_first_page(analyst_client, consented_dialog):
    start = timezone.now() - timedelta(hours=1)
    for n in range(25):
        consented_dialog(dialog_id=f"d{n}", created_at=start + timedelta(seconds=n // 3))
    forward = walk(analyst_client, "/data/?page_size=10")

    back_two = analyst_client.get(forward[2]["previous"]).json()
    back_one = analyst_client.get(back_two["previous"]).json()

    assert forward[0]["previous"] is None
    assert ids(back_two) == ids(forward[1])
    assert ids(back_one) == ids(forward[0])
    assert back_one["previous"] is None
    assert ids(analyst_client.get(back_one["next"]).json()) == ids(forward[1])


def test_list_backward_past_the_start_and_forward_past_the_end(analyst_client, consented_dialog):
    for n in range(3):
        consented_dialog(dialog_id=f"d{n}")
    first = analyst_client.get("/data/?page_size=2").json()
    last = analyst_client.get(first["next"]).json()
    services.dialog_consent_record(dialog_id=last["results"][0]["dialogId"], granted=False)

    empty = analyst_client.get(first["next"]).json()
    again = analyst_client.get(empty["previous"]).json()

    assert empty["results"] == []
    assert empty["next"] is None
    assert empty["count"] == 2
    assert ids(again) == ids(first)


def test_list_deep_page_uses_the_cursor_not_an_offset(analyst_client, consented_dialog):
    for n in range(30):
        consented_dialog(dialog_id=f"d{n}")

    with CaptureQueriesContext(connection) as captured:
        pages = walk(analyst_client, "/data/?page_size=7")

    assert [len(p["results"]) for p in pages] == [7, 7, 7, 7, 2]
    assert all(p["count"] == 30 for p in pages)
    selects = [q["sql"] for q in captured if q["sql"].startswith('SELECT "dialogs_dialog"')]
    assert len(selects) == len(pages)
    assert not any("OFFSET" in sql.upper() for sql in selects), selects
    assert all(sql.endswith("LIMIT 8") for sql in selects), selects
    assert KEYSET_WHERE.search(selects[0]) is None
    assert all(KEYSET_WHERE.search(sql) for sql in selects[1:]), selects


# The forward keyset seek, as selectors._after writes it: created_at <= t AND (created_at < t OR
# id < i). An OFFSET page would have neither this nor the cursor's values.
KEYSET_WHERE = re.compile(
    r'"dialogs_dialog"\."created_at" <= \S.+? AND \("dialogs_dialog"\."created_at" < \S.+? '
    r'OR "dialogs_dialog"\."id" < \d+\)'
)


def test_list_query_count_is_pinned(analyst_client, consented_dialog, django_assert_num_queries):
    for n in range(12):
        consented_dialog(dialog_id=f"d{n}", customer_id=str(n % 2))
    analyst_client.get("/data/")  # warms the token cache: auth costs no query afterwards

    # Page + count; in production a third statement sets REPEATABLE READ (tests already run
    # inside a transaction, see selectors._one_snapshot).
    with django_assert_num_queries(2):
        first = analyst_client.get("/data/?page_size=5").json()
    with django_assert_num_queries(2):
        analyst_client.get(first["next"])
    with django_assert_num_queries(2):
        analyst_client.get("/data/?customerId=1&language=EN&page_size=1000")


def test_dialog_get_query_count_is_pinned(
    analyst_client, consented_dialog, django_assert_num_queries
):
    consented_dialog(dialog_id="d1", customer_id="42")
    analyst_client.get("/data/42/d1")

    with django_assert_num_queries(1):
        assert analyst_client.get("/data/42/d1").status_code == 200


def test_list_schema_documents_the_filterset_parameters(anon_client):
    schema = anon_client.get("/api/schema?format=json").json()

    parameters = {p["name"]: p for p in schema["paths"]["/data"]["get"]["parameters"]}
    assert set(parameters) == {"language", "customerId", "page_size", "cursor"}
    assert "unknown code is a 400" in parameters["language"]["description"]
    assert parameters["customerId"]["in"] == "query"
