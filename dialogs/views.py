"""DataAPI interface: parse input, call one service or selector, shape output."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from config import replica
from config.api import HasRole, filterset_values
from config.openapi import error_responses, filterset_parameters
from config.throttling import ScopedRedisRateThrottle
from dialogs import cursors, selectors, services
from dialogs.filters import DialogListFilter
from dialogs.serializers import (
    DeletedCustomerSerializer,
    DeletedDialogSerializer,
    DialogCreateSerializer,
    DialogPageQuerySerializer,
    DialogPageSerializer,
    DialogSerializer,
    PathIdsSerializer,
    parse_consent,
)

DEFAULT_PAGE_SIZE = 100
TAG = ["dialogs"]
_ID_DOC = "1 to 64 letters, digits, '.', '_' or '-'."
CUSTOMER_PARAM = OpenApiParameter("customerId", str, OpenApiParameter.PATH, description=_ID_DOC)
DIALOG_PARAM = OpenApiParameter("dialogId", str, OpenApiParameter.PATH, description=_ID_DOC)
CONSENT_BODY = {
    "oneOf": [
        {"type": "boolean", "description": "The bare JSON literal true or false."},
        {
            "type": "object",
            "properties": {
                "approved": {
                    "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]
                }
            },
            "required": ["approved"],
        },
    ]
}


def path_ids(**ids: str) -> dict[str, str]:
    """URL ids are validated like body fields: a bad one is a 400 naming it, never a 404."""
    serializer = PathIdsSerializer(data=ids)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _WriteView(APIView):
    """Writes need the ingest role and share its throttle; reads need the analyst role."""

    throttle_scope = "ingest"

    def get_permissions(self) -> list[permissions.BasePermission]:
        reading = self.request.method in permissions.SAFE_METHODS
        return [HasRole("analyst" if reading else "ingest")()]

    def get_throttles(self) -> list[BaseThrottle]:
        return (
            [] if self.request.method in permissions.SAFE_METHODS else [ScopedRedisRateThrottle()]
        )


class DialogDetailView(replica.ReplicaReadMixin, _WriteView):
    """POST stores (ingest), GET reads if consented (analyst), DELETE erases (ingest)."""

    @extend_schema(
        tags=TAG,
        operation_id="dialog_create",
        parameters=[CUSTOMER_PARAM, DIALOG_PARAM],
        request=DialogCreateSerializer,
        responses={
            201: DialogSerializer,
            200: OpenApiResponse(DialogSerializer, description="Identical retry: stored dialog."),
            **error_responses(400, 401, 403, 409, 429),
        },
    )
    def post(self, request: Request, customerId: str, dialogId: str) -> Response:
        ids = path_ids(customerId=customerId, dialogId=dialogId)
        body = DialogCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dialog, created = services.dialog_create(
            customer_id=ids["customerId"], dialog_id=ids["dialogId"], **body.validated_data
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(DialogSerializer(dialog).data, status=code)

    @extend_schema(
        tags=TAG,
        operation_id="dialog_retrieve",
        parameters=[CUSTOMER_PARAM, DIALOG_PARAM],
        responses={200: DialogSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, customerId: str, dialogId: str) -> Response:
        ids = path_ids(customerId=customerId, dialogId=dialogId)
        dialog = selectors.dialog_get_consented(
            customer_id=ids["customerId"], dialog_id=ids["dialogId"]
        )
        return Response(DialogSerializer(dialog).data)

    @extend_schema(
        tags=TAG,
        operation_id="dialog_delete",
        parameters=[CUSTOMER_PARAM, DIALOG_PARAM],
        responses={204: None, **error_responses(400, 401, 403, 404, 429)},
    )
    def delete(self, request: Request, customerId: str, dialogId: str) -> Response:
        ids = path_ids(customerId=customerId, dialogId=dialogId)
        services.dialog_delete(customer_id=ids["customerId"], dialog_id=ids["dialogId"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerDialogsDeleteView(_WriteView):
    @extend_schema(
        tags=TAG,
        operation_id="customer_dialogs_delete",
        parameters=[CUSTOMER_PARAM],
        responses={200: DeletedCustomerSerializer, **error_responses(400, 401, 403, 429)},
    )
    def delete(self, request: Request, customerId: str) -> Response:
        ids = path_ids(customerId=customerId)
        deleted = services.customer_dialogs_delete(customer_id=ids["customerId"])
        return Response({"customerId": ids["customerId"], "deleted": deleted})


class ConsentRecordView(_WriteView):
    @extend_schema(
        tags=TAG,
        operation_id="consent_record",
        parameters=[DIALOG_PARAM],
        request={"application/json": CONSENT_BODY},
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Granted: the dialog (customerId, dialogId, text, language, "
                'createdAt). Revoked: {"dialogId": ..., "deleted": true}, the dialog is erased.',
            ),
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    def post(self, request: Request, dialogId: str) -> Response:
        dialog_id = path_ids(dialogId=dialogId)["dialogId"]
        granted = parse_consent(request.data)
        dialog = services.dialog_consent_record(dialog_id=dialog_id, granted=granted)
        if dialog is None:
            return Response(DeletedDialogSerializer({"dialogId": dialog_id, "deleted": True}).data)
        return Response(DialogSerializer(dialog).data)


class DialogListView(replica.ReplicaReadMixin, APIView):
    permission_classes = [HasRole("analyst")]

    @extend_schema(
        tags=TAG,
        operation_id="dialog_list",
        parameters=[
            *filterset_parameters(DialogListFilter),
            OpenApiParameter("page_size", int, description="1 to 1000, default 100."),
            OpenApiParameter("cursor", str, description="Opaque; take it from next/previous."),
        ],
        responses={200: DialogPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        """Consented dialogs, newest first, keyset-paginated; `count` is exact."""
        filters = filterset_values(DialogListFilter, request.query_params)
        query = DialogPageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        token = params.get("cursor")
        page = selectors.dialogs_page(
            language=filters["language"] or None,
            customer_id=filters["customerId"] or None,
            cursor=cursors.decode(token) if token else None,
            size=params.get("page_size", DEFAULT_PAGE_SIZE),
        )
        return Response(
            {
                "count": page.count,
                "next": self._link(request, page.next),
                "previous": self._link(request, page.previous),
                "results": DialogSerializer(page.dialogs, many=True).data,
            }
        )

    @staticmethod
    def _link(request: Request, cursor: cursors.Cursor | None) -> str | None:
        """The same URL (filters, page_size) with this cursor: absolute, as clients follow it."""
        if cursor is None:
            return None
        return replace_query_param(request.build_absolute_uri(), "cursor", cursors.encode(cursor))
