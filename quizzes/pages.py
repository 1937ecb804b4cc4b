"""Browser pages: the player, the big-screen board and the host's screen of a hosted game.
Data comes from the API and websocket."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from config.api import user_roles, websocket_url
from quizzes import selectors
from quizzes.models import Quiz


def _context(request: HttpRequest, quiz: Quiz) -> dict:
    return {"quiz": quiz, "ws_url": websocket_url(request, f"/ws/quizzes/{quiz.code}/")}


def _page(request: HttpRequest, code: str, template: str) -> HttpResponse:
    quiz = selectors.quiz_for_page(code=code)
    if quiz is None:
        return quiz_not_found(request, code=code)
    return render(request, template, _context(request, quiz))


def quiz_play(request: HttpRequest, code: str) -> HttpResponse:
    """Self-paced: question after question. Hosted: follow the host (quizzes/game.py)."""
    quiz = selectors.quiz_for_page(code=code)
    if quiz is None:
        return quiz_not_found(request, code=code)
    template = "quizzes/game.html" if quiz.mode == Quiz.Mode.HOSTED else "quizzes/play.html"
    return render(request, template, _context(request, quiz))


def quiz_board(request: HttpRequest, code: str) -> HttpResponse:
    return _page(request, code, "quizzes/board.html")


def quiz_host(request: HttpRequest, code: str) -> HttpResponse:
    """The big screen of a hosted game. Its buttons call the staff API with this session, so it
    needs the staff role (sign in through the admin); a self-paced quiz has no host screen."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    if not (request.user.is_superuser or "staff" in user_roles(request.user)):
        return render(request, "quizzes/forbidden.html", status=403)
    quiz = selectors.quiz_for_page(code=code)
    if quiz is None or quiz.mode != Quiz.Mode.HOSTED:
        return quiz_not_found(request, code=code)
    context = _context(request, quiz)
    context["join_url"] = request.build_absolute_uri(reverse("quiz-play", args=[quiz.code]))
    return render(request, "quizzes/host.html", context)


def quiz_not_found(request: HttpRequest, code: str) -> HttpResponse:
    return render(request, "quizzes/not_found.html", {"code": code}, status=404)


def quiz_code_invalid(request: HttpRequest, code: str) -> HttpResponse:
    """The route for a segment that cannot be a code: the same page, without echoing it."""
    return quiz_not_found(request, code="")
