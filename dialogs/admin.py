"""Read-only admin views. Changes go through the API's services, which keep the counts exact and
write the ledger; the admin must not bypass them. Built to stay fast on millions of dialogs."""

from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from config.admin import ReadOnlyAdmin
from dialogs.models import ConsentDecision, Dialog, DialogCount


class CappedCountPaginator(Paginator):
    """Counts at most 10,001 rows: an exact COUNT(*) over millions of rows costs seconds."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return len(cast(QuerySet, self.object_list).values_list("pk", flat=True)[: self.cap + 1])


class ConsentFilter(admin.SimpleListFilter):
    title = "consent"
    parameter_name = "consented"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", "consented"), ("no", "awaiting consent")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(consented_at__isnull=self.value() == "no")
        return queryset


class LanguageFilter(admin.SimpleListFilter):
    """Choices from the small counts table: a DISTINCT over all dialogs would scan them all."""

    title = "language"
    parameter_name = "language"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        languages = DialogCount.objects.order_by("language").values_list("language", flat=True)
        return [(code, code) for code in languages.distinct()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(language=self.value()) if self.value() else queryset


@admin.register(Dialog)
class DialogAdmin(ReadOnlyAdmin):
    list_display = ["dialog_id", "customer_id", "language", "created_at", "consented_at"]
    list_filter = [LanguageFilter, ConsentFilter]
    # Exact matches use the indexes; a substring search would scan every dialog's row.
    search_fields = ["=customer_id", "=dialog_id"]
    search_help_text = "Exact customer id or dialog id."
    ordering = ["-id"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = ["dialog_id", "customer_id", "language", "created_at", "consented_at", "text"]


@admin.register(ConsentDecision)
class ConsentDecisionAdmin(ReadOnlyAdmin):
    """The proof of consent: every decision and erasure, with no dialog text."""

    list_display = ["decided_at", "dialog_id", "customer_id", "granted", "source"]
    list_filter = ["granted", "source"]
    search_fields = ["=customer_id", "=dialog_id"]
    search_help_text = "Exact customer id or dialog id."
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(DialogCount)
class DialogCountAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "language", "consented"]
    list_filter = ["language"]
    search_fields = ["=customer_id"]
    ordering = ["customer_id", "language"]
