"""Hosted-game pages: the host's big screen (staff, signed in) and the players' game page."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from config.api import user_roles, websocket_url
from quizzes.models import Quiz


def _context(request: HttpRequest, quiz: Quiz) -> dict:
    return {"quiz": quiz, "ws_url": websocket_url(request, f"/ws/quizzes/{quiz.code}/")}


def quiz_host(request: HttpRequest, quiz: Quiz | None, code: str) -> HttpResponse:
    """The big screen. Its buttons call the staff API with this session, so it needs the staff
    role (sign in through the admin); an unknown or self-paced code is a 404 page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    if not (request.user.is_superuser or "staff" in user_roles(request.user)):
        return render(request, "quizzes/forbidden.html", status=403)
    if quiz is None or quiz.mode != Quiz.Mode.HOSTED:
        return render(request, "quizzes/not_found.html", {"code": code}, status=404)
    context = _context(request, quiz)
    context["join_url"] = request.build_absolute_uri(reverse("quiz-play", args=[quiz.code]))
    return render(request, "quizzes/host.html", context)


def quiz_game(request: HttpRequest, quiz: Quiz) -> HttpResponse:
    """A hosted quiz's player page (the play URL serves it for hosted quizzes)."""
    return render(request, "quizzes/game.html", _context(request, quiz))
