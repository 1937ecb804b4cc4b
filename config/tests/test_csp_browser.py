"""Every kind of HTML page works in a real browser under the Content-Security-Policy, offline.

Debian's chromium (driven by Playwright) loads Swagger UI, ReDoc, the admin, the browsable API
and the quiz pages from the test's own gunicorn (HTTP) and daphne (websockets), as `make run`
serves them. Every request to a host other than 127.0.0.1 is blocked and recorded, and every
CSP violation (the `securitypolicyviolation` event and console reports) is collected: both
lists must stay empty while the page does its job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from config.tests import servers
from quizzes.tests.factories import quiz_with_questions
from quizzes.tests.test_browser import CHROMIUM_ARGS, chromium_path  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${location.pathname} ${e.sourceFile}:${e.lineNumber} ${e.sample}`;
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


@dataclass
class Browser:
    base: str
    page: object
    offsite: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        reported = self.page.evaluate("window.__csp || []")
        return reported + [m for m in self.console if "Content Security Policy" in m]

    def goto(self, path: str) -> None:
        response = self.page.goto(f"{self.base}{path}")
        assert response.status == 200, f"{path}: {response.status}"
        assert "Content-Security-Policy" in response.headers or (
            "content-security-policy" in response.headers
        )


@pytest.fixture
def stack(transactional_db) -> Iterator[str]:
    http_port, ws_port = servers.free_port(), servers.free_port()
    env = servers.app_env(
        DJANGO_SETTINGS_MODULE="config.tests.server_settings",
        DATABASE_URL=servers.current_database_url(),
        REDIS_URL=settings.REDIS_URL,
        WS_PORT=str(ws_port),  # pages point browsers at daphne, as under `make run`
    )
    with servers.app_processes() as make:
        make("gunicorn", servers.gunicorn_cmd(http_port), env=env).start(port=http_port)
        make("daphne", servers.daphne_cmd(ws_port), env=env).start(port=ws_port)
        yield f"http://127.0.0.1:{http_port}"


@pytest.fixture
def browser(stack, chromium_path) -> Iterator[Browser]:  # noqa: F811 - the imported fixture
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context()
            context.add_init_script(WATCH_CSP)
            b = Browser(stack, context.new_page())

            def offline(route) -> None:
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    b.offsite.append(route.request.url)
                    route.abort()

            context.route("**/*", offline)
            b.page.on("console", lambda message: b.console.append(message.text))
            yield b
            assert b.offsite == []
        finally:
            chromium.close()


def test_swagger_ui_renders_the_operations(browser):
    browser.goto("/api/docs")

    browser.page.wait_for_selector(".opblock")

    assert browser.page.locator(".opblock").count() > 10
    assert browser.violations() == [], "\n".join(browser.violations())


def test_redoc_renders_the_operations(browser):
    browser.goto("/api/redoc")

    browser.page.wait_for_selector("[data-section-id^='operation/']", state="attached")

    assert browser.page.locator("h1").first.inner_text().startswith("Lingua backend API")
    assert browser.violations() == [], "\n".join(browser.violations())


@pytest.fixture
def quiz(transactional_db):
    return quiz_with_questions(questions=2)


@pytest.fixture
def superuser(transactional_db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "right-pass-9")


# Rows are made by fixtures listed before `browser`: the ORM refuses to run inside Playwright's
# event loop.
def test_admin_and_browsable_api_pages(superuser, quiz, browser):
    page = browser.page

    browser.goto("/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "right-pass-9")
    page.click("input[type=submit]")
    page.wait_for_selector("text=Site administration")
    browser.goto(f"/admin/quizzes/quiz/{quiz.pk}/change/")
    page.wait_for_selector("#quiz_form")
    browser.goto("/api/me")
    page.wait_for_selector(".response-info")

    assert "boss" in page.locator(".response-info").inner_text()
    page.click(".dropdown-toggle")
    page.click("text=Log out")  # DRF's own logout link is an inline onclick: ours is a form
    page.wait_for_selector("text=Log in")
    assert browser.violations() == [], "\n".join(browser.violations())


def test_quiz_play_and_board_pages(quiz, browser):
    page = browser.page

    browser.goto(f"/quizzes/{quiz.code}/board")
    page.wait_for_selector("#live.on")
    browser.goto(f"/quizzes/{quiz.code}/")
    page.fill("#nickname", "ada")
    page.click("#join-form button[type=submit]")
    page.wait_for_selector("#q-text:has-text('Question 1?')")
    page.wait_for_selector("#live.on")

    assert page.locator("#entries li").count() == 1
    assert browser.violations() == [], "\n".join(browser.violations())
