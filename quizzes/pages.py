"""Browser pages: the player and the big-screen board. Data comes from the API and websocket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.api import websocket_url
from quizzes import selectors


def _page(request: HttpRequest, code: str, template: str) -> HttpResponse:
    quiz = selectors.quiz_for_page(code=code)
    if quiz is None:
        return quiz_not_found(request, code=code)
    context = {"quiz": quiz, "ws_url": websocket_url(request, f"/ws/quizzes/{code}/")}
    return render(request, template, context)


def quiz_play(request: HttpRequest, code: str) -> HttpResponse:
    return _page(request, code, "quizzes/play.html")


def quiz_board(request: HttpRequest, code: str) -> HttpResponse:
    return _page(request, code, "quizzes/board.html")


def quiz_not_found(request: HttpRequest, code: str) -> HttpResponse:
    return render(request, "quizzes/not_found.html", {"code": code}, status=404)


def quiz_code_invalid(request: HttpRequest, code: str) -> HttpResponse:
    """The route for a segment that cannot be a code: the same page, without echoing it."""
    return quiz_not_found(request, code="")
