"""Admin for every tutor model. Learner-owned tables are large: FKs use raw ids or autocomplete,
and list pages avoid counting joins."""

from django.contrib import admin

from tutor.models import (
    Conversation,
    ErrorCategory,
    ErrorCount,
    ErrorSubcategory,
    Exercise,
    FlushLedger,
    Learner,
    LearnerError,
    Utterance,
)


@admin.register(Learner)
class LearnerAdmin(admin.ModelAdmin):
    list_display = ["username", "email", "first_name", "last_name", "created_at"]
    search_fields = ["username", "email", "last_name"]
    list_filter = ["created_at"]
    readonly_fields = ["id", "created_at"]
    show_full_result_count = False


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
    list_display = ["title", "subcategory", "difficulty"]
    list_select_related = ["subcategory__category"]
    list_filter = ["difficulty", "subcategory__category", "subcategory"]
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


@admin.register(FlushLedger)
class FlushLedgerAdmin(admin.ModelAdmin):
    list_display = ["flush_id", "kind", "applied_at", "learners", "increments"]
    list_filter = ["kind", "applied_at"]
    search_fields = ["=flush_id"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:  # an audit trail
        return False
