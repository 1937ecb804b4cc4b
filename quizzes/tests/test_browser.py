"""One real-browser test: Debian's chromium, driven by Playwright, against daphne on a free port.

daphne serves both HTTP and websockets here, against the test database (fine for a test; `make
run` serves HTTP with gunicorn). Skipped, with the reason printed, where chromium is missing:
`make browser-deps` installs it.
"""

import os
import shutil
from functools import partial

import pytest
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from quizzes.tests.factories import quiz_with_questions

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} not found (`make browser-deps` installs Debian's chromium)"
        print(f"SKIPPED browser test: {reason}")
        pytest.skip(reason)
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")


@pytest.fixture
def live_url(settings, transactional_db):
    """daphne in a forked process, on the test database, serving static files from the finders."""
    settings.WS_PUBLIC_URL, settings.WS_PORT = "", 0  # websockets on the page's own host:port
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    server = DaphneProcess(
        "127.0.0.1", partial(make_application, static_wrapper=ASGIStaticFilesHandler)
    )
    server.start()
    if not server.ready.wait(timeout=15):
        server.terminate()
        pytest.fail("daphne did not start")
    yield f"http://127.0.0.1:{server.port.value}"
    server.terminate()
    server.join(timeout=10)


def join(page, url: str, nickname: str) -> None:
    page.goto(url)
    page.fill("#nickname", nickname)
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#q-text:has-text('Question 1?')")


def test_browser_answer_updates_the_other_players_leaderboard_live(chromium_path, live_url):
    from playwright.sync_api import expect, sync_playwright

    quiz = quiz_with_questions(questions=2)
    url = f"{live_url}/quizzes/{quiz.code}/"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            alice = browser.new_context().new_page()
            bob = browser.new_context().new_page()
            join(alice, url, "alice")
            join(bob, url, "bob")
            expect(bob.locator("#entries li")).to_have_count(2)
            expect(bob.locator("#live")).to_have_text("live")
            bob.evaluate("window.__sameDocument = true")

            alice.click("#q-choices button:has-text('Q1 choice 1')")  # the correct one

            leader = bob.locator("#entries li").first
            expect(leader.locator(".name")).to_have_text("alice")
            expect(leader.locator(".answered")).to_have_text("1 answered")
            assert int(leader.locator(".score").inner_text()) >= 500
            assert bob.evaluate("window.__sameDocument") is True  # no reload happened
            expect(alice.locator("#q-feedback")).to_contain_text("Correct!")

            alice.reload()  # a refresh keeps alice's place: same player, next question
            expect(alice.locator("#me-name")).to_have_text("alice")
            expect(alice.locator("#q-text")).to_have_text("Question 2?")
        finally:
            browser.close()
