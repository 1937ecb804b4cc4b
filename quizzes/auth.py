"""Participants are not Django users: they hold a bearer token given once, at join."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from quizzes import selectors, services
from quizzes.models import Participant


@dataclass(frozen=True)
class ParticipantCredentials:
    """`request.auth` for a participant: who it is, and the token it proved that with (join
    hands the same token back on resume, so no view re-reads the header)."""

    participant: Participant
    token: str


class ParticipantTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <participant token>` -> (AnonymousUser, ParticipantCredentials).

    No header: None (the permission then answers 401 with a Bearer challenge). A token we don't
    know: 401. One query (participant + quiz), by the unique hash of the token.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ParticipantCredentials] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send `Authorization: Bearer <token>`.")
        try:
            token = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Malformed participant token.") from exc
        participant = selectors.participant_by_token_hash(token_hash=services.token_hash(token))
        if participant is None:
            raise exceptions.AuthenticationFailed("Unknown participant token.")
        return AnonymousUser(), ParticipantCredentials(participant=participant, token=token)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="quiz participant"'


def request_credentials(request: Request) -> ParticipantCredentials | None:
    return request.auth if isinstance(request.auth, ParticipantCredentials) else None


def request_participant(request: Request) -> Participant | None:
    credentials = request_credentials(request)
    return None if credentials is None else credentials.participant


def quiz_participant(request: Request) -> Participant:
    """The participant of a view behind IsQuizParticipant, which refused requests without one."""
    participant = request_participant(request)
    assert participant is not None, "quiz_participant() needs the IsQuizParticipant permission"
    return participant


class IsQuizParticipant(permissions.BasePermission):
    """A participant of the quiz in the URL: no token 401, another quiz's token 403."""

    message = "This participant token belongs to another quiz."
    code = "participant_of_other_quiz"

    def has_permission(self, request: Request, view: APIView) -> bool:
        participant = request_participant(request)
        if participant is None:
            return False
        return participant.quiz.code == view.kwargs["code"]  # normalised by the converter


class ParticipantTokenScheme(OpenApiAuthenticationExtension):
    target_class = ParticipantTokenAuthentication
    name = "participantToken"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Participant token from `POST /api/quizzes/{code}/join`.",
        }
