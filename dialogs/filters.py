"""The dialog list's query filters: their validation and their OpenAPI parameters.

The selector applies the validated values to both the list and the counts table (the two share
the `language` and `customer_id` columns), so a page and its exact count always filter alike.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from dialogs.languages import LanguageError, language_parse
from dialogs.models import ID_MAX_LENGTH, Dialog, validate_id


class LanguageFormField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return value
        try:
            return language_parse(value)
        except LanguageError as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from exc


class LanguageFilter(django_filters.CharFilter):
    field_class = LanguageFormField


class DialogListFilter(django_filters.FilterSet):
    language = LanguageFilter(help_text="ISO 639-1 code, any case; an unknown code is a 400.")
    # Ids are exact: no stripping, so " 42" is a 400 rather than customer 42.
    customerId = django_filters.CharFilter(
        field_name="customer_id",
        max_length=ID_MAX_LENGTH,
        strip=False,
        validators=[validate_id],
        help_text="1 to 64 letters, digits, '.', '_' or '-'.",
    )

    class Meta:
        model = Dialog
        fields: list[str] = []
