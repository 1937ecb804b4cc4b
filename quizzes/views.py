"""Quiz API: staff authoring, then joining, playing and the leaderboard for participants."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import HasRole, websocket_url
from config.openapi import error_responses
from config.throttling import ScopedRedisRateThrottle
from quizzes import selectors, services
from quizzes import serializers as s
from quizzes.auth import (
    IsQuizParticipant,
    ParticipantTokenAuthentication,
    quiz_participant,
    request_credentials,
    request_participant,
)
from quizzes.filters import QuizListFilter
from quizzes.models import Quiz

STAFF = [HasRole("staff")]
PARTICIPANT_AUTH = [ParticipantTokenAuthentication]


class ParticipantScopedRateThrottle(ScopedRedisRateThrottle):
    """Per participant when a token is sent (many players share a classroom's IP), else per IP."""

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        participant = request_participant(request)
        if participant is None:
            return super().get_cache_key(request, view)
        return self.cache_format % {"scope": self.scope, "ident": f"participant-{participant.pk}"}


class QuizListCreateView(GenericAPIView):
    # GenericAPIView for its filter backends: the FilterSet parses `?status=` and documents it.
    permission_classes = STAFF
    filter_backends = [DjangoFilterBackend]
    filterset_class = QuizListFilter
    serializer_class = s.StaffQuizInput  # what OPTIONS and the browsable API describe for POST

    def get_queryset(self) -> QuerySet[Quiz]:
        return selectors.quizzes_list()

    @extend_schema(
        responses={200: s.StaffQuizListOutput(many=True), **error_responses(400, 401, 403)},
        operation_id="quizzes_list",
    )
    def get(self, request: Request) -> Response:
        quizzes = self.filter_queryset(self.get_queryset())
        return Response(s.StaffQuizListOutput(quizzes, many=True).data)

    @extend_schema(
        request=s.StaffQuizInput,
        responses={201: s.StaffQuizOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.StaffQuizInput, request.data)
        author = cast(User, request.user)  # HasRole admits only signed-in users
        quiz = services.quiz_create(author=author, **data)
        quiz = selectors.quiz_with_questions(code=quiz.code)
        return Response(s.StaffQuizOutput(quiz).data, status=status.HTTP_201_CREATED)


class QuizDetailView(APIView):
    """Staff view of one quiz, with the correct choices. PATCH `status` moves draft -> open ->
    closed (409 `invalid_status_transition` otherwise); questions change only while draft."""

    permission_classes = STAFF

    @extend_schema(responses={200: s.StaffQuizOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, code: str) -> Response:
        return Response(s.StaffQuizOutput(selectors.quiz_with_questions(code=code)).data)

    @extend_schema(
        request=s.StaffQuizPatchInput,
        responses={200: s.StaffQuizOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, code: str) -> Response:
        data = _valid(s.StaffQuizPatchInput, request.data)
        services.quiz_update(code=code, data=data)
        return Response(s.StaffQuizOutput(selectors.quiz_with_questions(code=code)).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, code: str) -> Response:
        services.quiz_delete(code=code)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QuizJoinView(APIView):
    """Join with a nickname (201), or resume by sending your `Authorization: Bearer` token
    (200, same participant and score; the nickname is then ignored)."""

    authentication_classes = PARTICIPANT_AUTH
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ParticipantScopedRateThrottle]
    throttle_scope = "quiz_join"

    @extend_schema(
        request=s.JoinInput,
        responses={
            201: s.JoinOutput,
            200: s.JoinOutput,
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        operation_id="quizzes_join",
    )
    def post(self, request: Request, code: str) -> Response:
        credentials = request_credentials(request)
        # A resuming participant's body is ignored, so it is not parsed either.
        data = {} if credentials else _valid(s.JoinInput, request.data)
        entry = services.participant_enter(
            code=code,
            nickname=data.get("nickname"),
            resuming=credentials.participant if credentials else None,
            token=credentials.token if credentials else None,
        )
        participant = entry.participant
        body = {
            "participant_id": participant.pk,
            "nickname": participant.nickname,
            "token": entry.token,
            "score": participant.score,
            "answered": participant.answered,
            "quiz": selectors.quiz_for_join(code=code),
            "websocket_url": websocket_url(request, f"/ws/quizzes/{code}/"),
        }
        return Response(s.JoinOutput(body).data, status=201 if entry.created else 200)


class QuizNextView(APIView):
    """The next unanswered question; starts its timer (idempotent). 204 when none is left."""

    authentication_classes = PARTICIPANT_AUTH
    permission_classes = [IsQuizParticipant]

    @extend_schema(
        responses={
            200: s.NextQuestionOutput,
            204: OpenApiResponse(description="All answered."),
            **error_responses(401, 403, 404, 409),
        },
        operation_id="quizzes_next",
    )
    def get(self, request: Request, code: str) -> Response:
        served = services.question_serve(participant=quiz_participant(request))
        if served is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(s.NextQuestionOutput(served).data)


class QuizAnswerView(APIView):
    """Answer a served question. 409 `question_not_served` if `next` never served it (the timer
    starts there), 409 `already_answered` on a second answer, 409 `quiz_closed`."""

    authentication_classes = PARTICIPANT_AUTH
    permission_classes = [IsQuizParticipant]
    throttle_classes = [ParticipantScopedRateThrottle]
    throttle_scope = "quiz_answer"

    @extend_schema(
        request=s.AnswerInput,
        responses={201: s.AnswerOutput, **error_responses(400, 401, 403, 404, 409, 429)},
        operation_id="quizzes_answer",
    )
    def post(self, request: Request, code: str) -> Response:
        data = _valid(s.AnswerInput, request.data)
        outcome = services.answer_submit(participant=quiz_participant(request), **data)
        participant = outcome.participant
        body = {
            "correct": outcome.correct,
            "late": outcome.late,
            "points": outcome.points,
            "score": participant.score,
            "answered": participant.answered,
            "rank": selectors.participant_rank(participant=participant),
        }
        return Response(s.AnswerOutput(body).data, status=status.HTTP_201_CREATED)


class QuizLeaderboardView(APIView):
    """Public; with a participant token of this quiz the body also has `me`."""

    authentication_classes = PARTICIPANT_AUTH
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="1..100, default 10")],
        responses={200: s.LeaderboardOutput, **error_responses(400, 401, 404)},
        operation_id="quizzes_leaderboard",
    )
    def get(self, request: Request, code: str) -> Response:
        limit = _valid(s.LeaderboardQuery, request.query_params)["limit"]
        quiz = selectors.quiz_get(code=code)
        participant = request_participant(request)
        if participant is not None and participant.quiz_id != quiz.pk:
            participant = None  # a token of another quiz only loses `me`
        body = selectors.leaderboard_read(
            code=quiz.code, limit=limit, quiz=quiz, participant=participant
        )
        return Response(s.LeaderboardOutput({**body, "status": quiz.status}).data)


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
