"""Browser pages: the player and the big-screen board. Data comes from the API and websocket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.api import websocket_url
from quizzes import game_pages
from quizzes.models import Quiz

PAGE_FIELDS = ("code", "title", "description", "status", "mode")


def _page(request: HttpRequest, code: str, template: str) -> HttpResponse:
    code = code.upper()
    quiz = Quiz.objects.filter(code=code).only(*PAGE_FIELDS).first()
    if quiz is None:
        return render(request, "quizzes/not_found.html", {"code": code}, status=404)
    context = {"quiz": quiz, "ws_url": websocket_url(request, f"/ws/quizzes/{code}/")}
    return render(request, template, context)


def quiz_play(request: HttpRequest, code: str) -> HttpResponse:
    quiz = Quiz.objects.filter(code=code.upper()).only(*PAGE_FIELDS).first()
    if quiz is not None and quiz.mode == Quiz.Mode.HOSTED:
        return game_pages.quiz_game(request, quiz)
    return _page(request, code, "quizzes/play.html")


def quiz_host(request: HttpRequest, code: str) -> HttpResponse:
    quiz = Quiz.objects.filter(code=code.upper()).only(*PAGE_FIELDS).first()
    return game_pages.quiz_host(request, quiz, code.upper())


def quiz_board(request: HttpRequest, code: str) -> HttpResponse:
    return _page(request, code, "quizzes/board.html")
