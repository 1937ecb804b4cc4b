"""Hosted-game API: the host's moves (staff), the game state and answers (players), results."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, renderers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import HasRole
from config.errors import ApplicationError
from config.openapi import error_responses
from quizzes import game, gamestate, results, selectors, views
from quizzes import serializers as s
from quizzes.auth import (
    IsQuizParticipant,
    ParticipantTokenAuthentication,
    quiz_participant,
    request_participant,
)
from quizzes.models import Quiz

STAFF = [HasRole("staff")]
PARTICIPANT_AUTH = [ParticipantTokenAuthentication]


class _GameMoveView(APIView):
    """POST moves the game; 200 with the new public state, 409 `invalid_game_transition` (the
    detail names the phase), `quiz_not_hosted`, or `quiz_not_open` (start only)."""

    permission_classes = STAFF
    move: Callable[..., Quiz]

    def post(self, request: Request, code: str) -> Response:
        quiz = type(self).move(code=code)
        return Response(gamestate.public_state(quiz))


_MOVE_SCHEMA: dict[str, Any] = {
    "request": None,
    "responses": {200: s.GameStateOutput, **error_responses(401, 403, 404, 409)},
}


class GameStartView(_GameMoveView):
    """lobby -> question 1."""

    move = staticmethod(game.game_start)

    @extend_schema(operation_id="quizzes_game_start", **_MOVE_SCHEMA)
    def post(self, request: Request, code: str) -> Response:
        return super().post(request, code)


class GameRevealView(_GameMoveView):
    """question k -> reveal k (correct choice, per-choice counts, round points)."""

    move = staticmethod(game.game_reveal)

    @extend_schema(operation_id="quizzes_game_reveal", **_MOVE_SCHEMA)
    def post(self, request: Request, code: str) -> Response:
        return super().post(request, code)


class GameNextView(_GameMoveView):
    """reveal k -> leaderboard k -> question k+1, or finished after the last question."""

    move = staticmethod(game.game_next)

    @extend_schema(operation_id="quizzes_game_next", **_MOVE_SCHEMA)
    def post(self, request: Request, code: str) -> Response:
        return super().post(request, code)


class GameEndView(_GameMoveView):
    """Any phase -> finished (podium); the quiz closes."""

    move = staticmethod(game.game_end)

    @extend_schema(operation_id="quizzes_game_end", **_MOVE_SCHEMA)
    def post(self, request: Request, code: str) -> Response:
        return super().post(request, code)


class GameStateView(APIView):
    """The hosted game as every screen shows it; with a participant token of this quiz, also
    `you` (your answer to the current question, your score and rank). The websocket pushes the
    same shapes; this is for clients without one."""

    authentication_classes = PARTICIPANT_AUTH
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses={200: s.GameStateOutput, **error_responses(401, 404, 409)},
        operation_id="quizzes_game_state",
    )
    def get(self, request: Request, code: str) -> Response:
        quiz = game.game_state_current(quiz=_hosted(code))
        body = gamestate.public_state(quiz)
        participant = request_participant(request)
        if participant is not None and participant.quiz_id == quiz.pk:
            body["you"] = gamestate.personal_states(quiz=quiz, participant_ids=[participant.pk])[
                participant.pk
            ]
        return Response(body)


class GameAnswerView(APIView):
    """Lock in an answer to the open question (201). Its result comes with the reveal.
    409 `question_not_open`, `question_not_current`, `already_answered`."""

    authentication_classes = PARTICIPANT_AUTH
    permission_classes = [IsQuizParticipant]
    throttle_classes = [views.ParticipantScopedRateThrottle]
    throttle_scope = "quiz_answer"

    @extend_schema(
        request=s.AnswerInput,
        responses={201: s.GameAnswerOutput, **error_responses(400, 401, 403, 404, 409, 429)},
        operation_id="quizzes_game_answer",
    )
    def post(self, request: Request, code: str) -> Response:
        serializer = s.AnswerInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = game.game_answer_submit(
            participant=quiz_participant(request), **serializer.validated_data
        )
        body = {"question_id": answer.question_id, "choice_id": answer.choice_id, "locked_in": True}
        return Response(body, status=status.HTTP_201_CREATED)


class ResultsCSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        context = renderer_context or {}
        response, request = context.get("response"), context.get("request")
        # Errors keep the one error shape, and OPTIONS describes the view: JSON, not rows.
        describing = request is not None and request.method == "OPTIONS"
        if response is not None and (response.status_code >= 400 or describing):
            response["Content-Type"] = "application/json"
            return json.dumps(data).encode()
        return results.results_csv([data]).encode()


class QuizResultsView(APIView):
    """Per player and per question: choice, correctness, points, response time (ms from when the
    question was served or opened). Either mode. `?format=csv` for a spreadsheet."""

    permission_classes = STAFF
    renderer_classes = [renderers.JSONRenderer, ResultsCSVRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: s.ResultsOutput, **error_responses(401, 403, 404)},
        operation_id="quizzes_results",
    )
    def get(self, request: Request, code: str) -> Response:
        quiz = selectors.quiz_get(code=code)
        response = Response(results.quiz_results(quiz=quiz))
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="quiz-{quiz.code}-results.csv"'
        return response


def _hosted(code: str) -> Quiz:
    quiz = selectors.quiz_get(code=code)
    if quiz.mode != Quiz.Mode.HOSTED:
        raise ApplicationError(
            "quiz_not_hosted", "This quiz is self-paced: it has no game state.", status=409
        )
    return quiz
