"""Shared API bits: cached token auth, role permissions, query filters, URL and schema helpers,
and what hand-built hot responses share with DRF's output."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, QueryDict
from django.urls import URLPattern, path
from django_filters import FilterSet
from django_filters.utils import translate_validation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, permissions
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from config.caching import ExpiringCache

ROLES = ("ingest", "analyst", "staff")


class CachedTokenAuthentication(authentication.TokenAuthentication):
    """DRF token auth that remembers token -> (user, roles) for API_TOKEN_CACHE_SECONDS.

    Token auth otherwise costs two queries per request (token+user, then groups) on the hot paths.
    A deleted token or changed role takes effect within the cache lifetime, in every process.
    """

    _cache: ExpiringCache[str, AbstractBaseUser] = ExpiringCache(
        maxsize=10_000, seconds=lambda: settings.API_TOKEN_CACHE_SECONDS
    )

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, Token | None]:
        loaded: list[Token] = []

        def load() -> AbstractBaseUser:
            user, token = super(CachedTokenAuthentication, self).authenticate_credentials(key)
            user.roles = frozenset(user.groups.values_list("name", flat=True))
            loaded.append(token)
            return user

        user = self._cache.get_or_load(key, load)
        return user, (loaded[0] if loaded else None)

    @classmethod
    def forget_all(cls) -> None:
        cls._cache.clear()


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role names, remembered on the user object (the token cache keeps that object)."""
    roles: frozenset[str] | None = getattr(user, "roles", None)
    if roles is None:  # session-authenticated users skip the token cache
        roles = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
        user.roles = roles  # type: ignore[union-attr]
    return roles


def HasRole(*roles: str) -> type[permissions.BasePermission]:
    """Permission class for users in any of `roles` (Django groups). Superusers pass.

    Unauthenticated requests get 401 (via the token authenticator's challenge); a valid token
    without the role gets 403.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    class _HasRole(permissions.BasePermission):
        message = f"This endpoint needs the {' or '.join(roles)} role."
        code = "role_required"

        def has_permission(self, request: Request, view: object) -> bool:
            user = request.user
            if not user or not user.is_authenticated:
                return False  # DRF turns this into 401 when no credentials were given
            return user.is_superuser or bool(user_roles(user) & set(roles))

    _HasRole.__name__ = f"HasRole_{'_'.join(roles)}"
    return _HasRole


def filterset_values(filterset_class: type[FilterSet], data: QueryDict) -> dict[str, Any]:
    """The validated values of a FilterSet's filters; a bad one is a 400 naming the parameter."""
    filterset = filterset_class(data=data)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.form.cleaned_data


def optional_slash(route: str, view: Callable, name: str) -> list[URLPattern]:
    """`route` and `route/` both answer; no redirect, so POST bodies are never dropped."""
    route = route.rstrip("/")
    return [path(route, view, name=name), path(f"{route}/", view)]


def schema_drop_slash_aliases(endpoints: list[tuple]) -> list[tuple]:
    """drf-spectacular hook: document each path once, without the trailing-slash alias."""
    paths = {p for p, *_ in endpoints}
    return [e for e in endpoints if not (e[0].endswith("/") and e[0].rstrip("/") in paths)]


class CachedTokenScheme(OpenApiAuthenticationExtension):
    target_class = CachedTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Service token: `Token <key>` (see `manage.py issue_token`).",
        }


def websocket_url(request: HttpRequest | Request, path: str) -> str:
    """Absolute websocket URL for `path` (e.g. "/ws/quizzes/ABC234/") as this client reaches it.

    WS_PUBLIC_URL wins; else the request's host, on WS_PORT when websockets are served apart
    (`make run`), or on the same port when a proxy routes /ws/ (docker compose).
    """
    if settings.WS_PUBLIC_URL:
        return settings.WS_PUBLIC_URL.rstrip("/") + path
    scheme = "wss" if request.is_secure() else "ws"
    host = request.get_host()
    if settings.WS_PORT:
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        host = f"{hostname}:{settings.WS_PORT}"
    return f"{scheme}://{host}{path}"


def iso_datetime(at: datetime) -> str:
    """A datetime as DRF's DateTimeField writes it under TIME_ZONE = "UTC" (with "Z"), for the
    responses built as dicts on hot paths, where a serializer costs more than the query."""
    text = at.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
