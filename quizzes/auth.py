"""Participants are not Django users: they hold a bearer token given once, at join."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from quizzes import selectors, services
from quizzes.models import Participant


class ParticipantTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <participant token>` -> (AnonymousUser, Participant).

    No header: None (the permission then answers 401 with a Bearer challenge). A token we don't
    know: 401. One query (participant + quiz), by the unique hash of the token.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Participant] | None:
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
        return AnonymousUser(), participant

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="quiz participant"'


def request_participant(request: Request) -> Participant | None:
    return request.auth if isinstance(request.auth, Participant) else None


class IsQuizParticipant(permissions.BasePermission):
    """A participant of the quiz in the URL: no token 401, another quiz's token 403."""

    message = "This participant token belongs to another quiz."
    code = "participant_of_other_quiz"

    def has_permission(self, request: Request, view: object) -> bool:
        participant = request_participant(request)
        if participant is None:
            return False
        return participant.quiz.code == view.kwargs["code"].upper()


class ParticipantTokenScheme(OpenApiAuthenticationExtension):
    target_class = ParticipantTokenAuthentication
    name = "participantToken"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Participant token from `POST /api/quizzes/{code}/join`.",
        }
