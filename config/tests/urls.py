"""A role-protected probe endpoint, so platform conventions are tested apart from any app."""

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import HasRole, optional_slash
from config.urls import urlpatterns as project_urlpatterns


class ProbeView(APIView):
    permission_classes = [HasRole("ingest")]

    class InputSerializer(serializers.Serializer):
        count = serializers.IntegerField(min_value=0)
        colour = serializers.ChoiceField(choices=["red", "green"])

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


urlpatterns = [
    *optional_slash("test/probe", ProbeView.as_view(), name="probe"),
    *project_urlpatterns,
]

handler404 = "config.errors.handler404"
