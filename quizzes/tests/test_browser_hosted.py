"""A hosted game in real Chromium: the host's screen and three players, two questions.

Also writes the README's screenshots (docs/screenshots/*.png) from the screens it drives.
"""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from quizzes.tests.factories import hosted_quiz
from quizzes.tests.test_browser import CHROMIUM_ARGS, chromium_path, live_url  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PLAYERS = ["alice", "bob", "chloe"]


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _host(browser, base: str, code: str):
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{base}/quizzes/{code}/host")  # redirects to the admin's sign-in
    page.fill("#id_username", "teacher")
    page.fill("#id_password", "pass-for-tests")
    page.click("input[type=submit]")
    page.wait_for_selector("#lobby:not([hidden])")
    return page


def _player(browser, base: str, code: str, nickname: str):
    page = browser.new_context(viewport={"width": 480, "height": 800}).new_page()
    page.goto(f"{base}/quizzes/{code}/")
    page.fill("#nickname", nickname)
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#lobby:not([hidden])")
    return page


def _answer(page, text: str) -> None:
    page.click(f"#q-choices button:has-text('{text}')")
    page.wait_for_selector("#q-feedback:has-text('Answer locked in')")


def test_browser_hosted_game_host_and_three_players(chromium_path, live_url):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    quiz = hosted_quiz(questions=2, time_limit=60)
    quiz.title = "Friday vocabulary round"
    quiz.save(update_fields=["title"])
    # Before Playwright starts: it runs an event loop in this thread, where the ORM won't go.
    get_user_model().objects.create_superuser("teacher", "t@example.com", "pass-for-tests")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            host = _host(browser, live_url, quiz.code)
            players = [_player(browser, live_url, quiz.code, name) for name in PLAYERS]

            expect(host.locator("#lobby-names li")).to_have_text(PLAYERS)  # arrived live
            expect(host.locator("#join-code")).to_have_text(quiz.code)
            _shot(host, "host-lobby")

            host.click("#btn-start")
            for page in players:
                expect(page.locator("#q-text")).to_have_text("Question 1?")
            expect(host.locator("#q-text")).to_have_text("Question 1?")
            _answer(players[0], "Q1 choice 1")  # the correct one
            expect(host.locator("#q-answered")).to_have_text("1")
            _shot(host, "host-question")
            _shot(players[0], "player-locked-in")
            _answer(players[1], "Q1 choice 1")
            _answer(players[2], "Q1 choice 0")

            # Everyone answered: the question closes and reveals by itself.
            expect(host.locator("#reveal")).to_be_visible()
            counts = host.locator("#r-chart .chart-count")
            expect(counts).to_have_text(["1", "2", "0"])
            expect(host.locator("#r-chart .chart-row.correct")).to_contain_text("Q1 choice 1")
            expect(players[0].locator("#r-headline")).to_contain_text("Correct! +")
            expect(players[2].locator("#r-headline")).to_have_text("Not quite +0")
            _shot(host, "host-reveal")
            _shot(players[0], "player-result")

            host.click("#btn-next")
            expect(host.locator("#lb-entries li")).to_have_count(3)
            host.click("#btn-next")
            for page in players:
                expect(page.locator("#q-text")).to_have_text("Question 2?")

            _answer(players[1], "Q2 choice 1")
            players[1].evaluate("window.__before = true")
            players[1].reload()  # a refresh mid-question keeps the answer, locked in
            expect(players[1].locator("#q-text")).to_have_text("Question 2?")
            expect(players[1].locator("#q-feedback")).to_have_text("Answer locked in")
            expect(players[1].locator("button.chosen")).to_have_text("Q2 choice 1")
            assert players[1].evaluate("window.__before === undefined")
            expect(players[1].locator("#me-name")).to_have_text("bob")

            _answer(players[0], "Q2 choice 2")
            _answer(players[2], "Q2 choice 1")
            expect(host.locator("#r-chart .chart-count")).to_have_text(["0", "2", "1"])
            host.click("#btn-next")
            host.click("#btn-next")

            expect(host.locator("#podium li")).to_have_count(3)
            expect(host.locator("#podium .first .name")).to_have_text("bob")
            expect(host.locator("#standings tr")).to_have_count(3)
            expect(players[1].locator("#final")).to_contain_text("You finished #1")
            _shot(host, "host-podium")
            _shot(players[1], "player-podium")
        finally:
            browser.close()
