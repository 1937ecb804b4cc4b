"""Admin for every tutor model. Learner-owned tables are large: FKs use raw ids or autocomplete,
and list pages avoid counting joins."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from tutor import admin_charts, progress
from tutor.models import (
    Conversation,
    ErrorCategory,
    ErrorCount,
    ErrorSubcategory,
    Exercise,
    ExerciseAttempt,
    FlushLedger,
    Learner,
    LearnerError,
    Utterance,
)


class RecentAttemptsFormSet(BaseInlineFormSet):
    def get_queryset(self):  # the latest only: a learner may have thousands
        return super().get_queryset()[: AttemptInline.shown]


class AttemptInline(admin.TabularInline):
    """The learner's latest attempts, read-only (attempts come from the API)."""

    model = ExerciseAttempt
    formset = RecentAttemptsFormSet
    shown = 20
    fields = readonly_fields = ("created_at", "exercise", "correct", "answer")
    ordering = ["-created_at", "-id"]
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = f"latest {shown} exercise attempts"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("exercise")


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["username", "email", "first_name", "last_name", "level", "created_at"]
    search_fields = ["username", "email", "last_name"]
    list_filter = ["created_at", "level"]
    readonly_fields = ["id", "created_at", "errors_chart"]
    show_full_result_count = False
    inlines = [AttemptInline]

    @admin.display(description="errors, last 30 days")
    def errors_chart(self, obj: Learner) -> str:
        if obj.pk is None:
            return "-"
        return admin_charts.progress_chart_svg(
            progress.progress_get(learner_id=obj.pk, last_n_days=30)
        )


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "learner", "started_at"]
    list_select_related = ["learner"]
    list_filter = ["started_at"]
    search_fields = ["learner__username", "=id"]
    autocomplete_fields = ["learner"]
    show_full_result_count = False


@admin.register(Utterance)
class UtteranceAdmin(admin.ModelAdmin):
    list_display = ["created_at", "learner", "content"]
    list_select_related = ["learner"]
    list_filter = ["created_at"]
    search_fields = ["learner__username", "=id", "=conversation__id"]
    raw_id_fields = ["conversation", "learner"]
    show_full_result_count = False


class SubcategoryInline(admin.TabularInline):
    model = ErrorSubcategory
    fields = ["name", "description"]
    extra = 0


@admin.register(ErrorCategory)
class ErrorCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "key"]
    search_fields = ["name"]
    inlines = [SubcategoryInline]


@admin.register(ErrorSubcategory)
class ErrorSubcategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "key"]
    list_select_related = ["category"]
    list_filter = ["category"]
    search_fields = ["name", "key", "category__name"]


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["title", "subcategory", "level", "difficulty"]
    list_select_related = ["subcategory__category"]
    list_filter = ["level", "difficulty", "subcategory__category", "subcategory"]
    search_fields = ["title", "prompt", "subcategory__name"]
    autocomplete_fields = ["subcategory"]


@admin.register(LearnerError)
class LearnerErrorAdmin(admin.ModelAdmin):
    list_display = ["created_at", "learner", "subcategory", "utterance_id", "uncounted_batch"]
    list_select_related = ["learner", "subcategory__category"]
    list_filter = ["subcategory__category", "created_at"]
    search_fields = ["learner__username", "=utterance__id"]
    raw_id_fields = ["learner", "utterance"]
    autocomplete_fields = ["subcategory"]
    show_full_result_count = False


@admin.register(ErrorCount)
class ErrorCountAdmin(admin.ModelAdmin):
    list_display = ["day", "learner", "subcategory", "count", "last_seen"]
    list_select_related = ["learner", "subcategory__category"]
    list_filter = ["day", "subcategory__category"]
    search_fields = ["learner__username"]
    raw_id_fields = ["learner"]
    autocomplete_fields = ["subcategory"]
    show_full_result_count = False

    # Derived from the error rows by the flush, fold and rebuild; an edit here would make the
    # counts disagree with the errors (and bypass the evidence caches' revision).
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FlushLedger)
class FlushLedgerAdmin(admin.ModelAdmin):
    list_display = ["flush_id", "kind", "applied_at", "learners", "increments"]
    list_filter = ["kind", "applied_at"]
    search_fields = ["=flush_id"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:  # an audit trail
        return False


@admin.register(ExerciseAttempt)
class ExerciseAttemptAdmin(admin.ModelAdmin):
    list_display = ["created_at", "learner", "exercise", "correct"]
    list_select_related = ["learner", "exercise"]
    list_filter = ["correct", "created_at"]
    search_fields = ["learner__username", "=id"]
    raw_id_fields = ["learner", "exercise"]
    readonly_fields = ["subcategory"]
    show_full_result_count = False

    # History, written by the API with its daily aggregate and the learner's evidence_rev; an
    # edit or a delete here would bypass both (erasing a learner deletes theirs).
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
