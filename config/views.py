from django.contrib.contenttypes import views as contenttype_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import user_roles
from config.openapi import error_responses


class MeView(APIView):
    """Who the credentials belong to: lets a client check its token and roles."""

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        responses={200: OutputSerializer, **error_responses(401)}, operation_id="me_retrieve"
    )
    def get(self, request: Request) -> Response:
        roles = sorted(user_roles(request.user))
        return Response(
            self.OutputSerializer({"username": request.user.username, "roles": roles}).data
        )


def admin_view_on_site(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
    """The admin's "view on site" redirect (Django's contenttypes shortcut), where an id that
    cannot be a primary key is a 404: Django's own view lets a malformed UUID (ValidationError)
    or a NUL (which PostgreSQL text refuses) through as a 500."""
    if "\x00" in object_id:
        raise Http404("No such object.")
    try:
        return contenttype_views.shortcut(request, content_type_id, object_id)
    except ValidationError as exc:
        raise Http404("No such object.") from exc
