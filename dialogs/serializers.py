"""The wire format (camelCase, exact: existing clients depend on it) and its input rules."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from dialogs.languages import LanguageError, language_parse
from dialogs.models import ID_MAX_LENGTH, ID_PATTERN, TEXT_MAX_LENGTH

_ID_RE = re.compile(ID_PATTERN)


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers instead of silently turning them into text."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates from JSON "\ud800" cannot be stored
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(StrictCharField):
    default_error_messages = {"invalid": "1 to 64 letters, digits, '.', '_' or '-'."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=ID_MAX_LENGTH, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not _ID_RE.match(value):
            self.fail("invalid")
        return value


class LanguageField(StrictCharField):
    """ISO 639-1, any case in, upper case out. Malformed and unknown codes are both 400."""

    def to_internal_value(self, data: Any) -> str:
        try:
            return language_parse(super().to_internal_value(data))
        except LanguageError as exc:
            raise serializers.ValidationError(str(exc), code=exc.code) from exc


class PathIdsSerializer(serializers.Serializer):
    customerId = IdField(required=False)
    dialogId = IdField(required=False)


class DialogCreateSerializer(serializers.Serializer):
    text = StrictCharField(min_length=1, max_length=TEXT_MAX_LENGTH, trim_whitespace=False)
    language = LanguageField()


class DialogSerializer(serializers.Serializer):
    customerId = serializers.CharField(source="customer_id")
    dialogId = serializers.CharField(source="dialog_id")
    text = serializers.CharField()
    language = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")


class DialogPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Exact number of matching consented dialogs.")
    next = serializers.URLField(allow_null=True, help_text="Absolute URL of the next page.")
    previous = serializers.URLField(
        allow_null=True, help_text="Absolute URL of the page before; null on the first page."
    )
    results = DialogSerializer(many=True)


class DialogPageQuerySerializer(serializers.Serializer):
    """The list's paging parameters; its filters are `dialogs.filters.DialogListFilter`."""

    page_size = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    cursor = serializers.CharField(required=False, allow_blank=True)


class ConsentSerializer(serializers.Serializer):
    """`{"approved": ...}`; the bare literal `true`/`false` is handled by `parse_consent`."""

    approved = serializers.JSONField()

    def validate_approved(self, value: Any) -> bool:
        if value is True or value == "true":
            return True
        if value is False or value == "false":
            return False
        raise serializers.ValidationError("Must be true or false.", code="invalid")


class DeletedDialogSerializer(serializers.Serializer):
    dialogId = serializers.CharField()
    deleted = serializers.BooleanField()


class DeletedCustomerSerializer(serializers.Serializer):
    customerId = serializers.CharField()
    deleted = serializers.IntegerField(help_text="Number of dialogs erased.")


def parse_consent(data: Any) -> bool:
    """The bare JSON literal (what clients send) or {"approved": bool or "true"/"false"}."""
    if data is True or data is False:  # `is`: 1 and 0 compare equal to True and False
        return data
    serializer = ConsentSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["approved"]
