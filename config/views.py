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
