"""Authoring: a quiz, its questions and their choices on one page (nested inlines)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast

import nested_admin
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin
from config.errors import ApplicationError
from quizzes import results, services
from quizzes.models import Answer, Choice, Participant, Question, Quiz, choice_set_error
from quizzes.serializers import MAX_QUESTIONS

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # The mixin's super() is the inline admin it is mixed into (nested_admin is untyped).
    _InlineAdmin = admin.options.InlineModelAdmin[Any, Any]

    class _QuizCounts(TypedDict):
        question_count: int
        participant_count: int

    CountedQuiz = WithAnnotations[Quiz, _QuizCounts]
else:
    _InlineAdmin = object


def _editable(obj: object) -> bool:
    """Questions and choices change only while the quiz is a draft: answers point at them."""
    quiz = obj if isinstance(obj, Quiz) else getattr(obj, "quiz", None)
    return quiz is None or quiz.pk is None or quiz.status == Quiz.Status.DRAFT


class ChoiceFormSet(nested_admin.NestedInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        error = choice_set_error(count=len(kept), correct=sum(bool(c.get("correct")) for c in kept))
        if error:
            raise ValidationError(error, code="invalid_choices")


class DraftOnlyInlineMixin(_InlineAdmin):
    """Questions and choices change only while their quiz is a draft."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)


class ChoiceInline(DraftOnlyInlineMixin, nested_admin.NestedTabularInline):
    model = Choice
    formset = ChoiceFormSet
    extra = 0
    min_num = 2
    max_num = 6


class QuestionInline(DraftOnlyInlineMixin, nested_admin.NestedStackedInline):
    model = Question
    inlines = [ChoiceInline]
    extra = 0
    max_num = MAX_QUESTIONS
    fields = ["order", "text", "time_limit"]
    sortable_field_name = "order"


@admin.register(Quiz)
class QuizAdmin(nested_admin.NestedModelAdmin):
    inlines = [QuestionInline]
    list_display = ["title", "code", "mode", "status", "author", "questions", "players", "live"]
    list_filter = ["status", "mode"]
    search_fields = ["title", "code"]
    readonly_fields = ["code", "status", "author", "created_at", "opened_at", "closed_at", "live"]
    fields = [
        "title", "description", "mode", "close_when_all_answered", "auto_reveal", "late_join",
        *readonly_fields,
    ]  # fmt: skip
    actions = ["open_quizzes", "close_quizzes", "results_csv"]

    def get_readonly_fields(self, request: HttpRequest, obj: Quiz | None = None) -> list[str]:
        # The mode is chosen while drafting: a game in play cannot change its rules.
        fields = list(super().get_readonly_fields(request, obj))
        return fields if _editable(obj) else ["mode", *fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Quiz]:
        return (
            super()
            .get_queryset(request)
            .select_related("author")
            .annotate(
                question_count=Count("questions", distinct=True),
                participant_count=Count("participants", distinct=True),
            )
        )

    @admin.display(description="Questions", ordering="question_count")
    def questions(self, quiz: CountedQuiz) -> int:
        return quiz.question_count

    @admin.display(description="Participants", ordering="participant_count")
    def players(self, quiz: Quiz) -> str:
        url = reverse("admin:quizzes_participant_changelist") + f"?quiz__id__exact={quiz.pk}"
        return format_html('<a href="{}">{}</a>', url, getattr(quiz, "participant_count", "…"))

    @admin.display(description="Live")
    def live(self, quiz: Quiz) -> str:
        if not quiz.pk:
            return "-"
        board = reverse("quiz-board", args=[quiz.code])
        play = reverse("quiz-play", args=[quiz.code])
        links = format_html(
            '<a href="{}" target="_blank">Leaderboard</a> · <a href="{}" target="_blank">Play</a>',
            board,
            play,
        )
        if quiz.mode != Quiz.Mode.HOSTED:
            return links
        host = reverse("quiz-host", args=[quiz.code])
        return format_html('<a href="{}" target="_blank">Host</a> · {}', host, links)

    def save_model(self, request: HttpRequest, obj: Quiz, form: object, change: bool) -> None:
        if not change and not obj.author_id:
            obj.author = cast(User, request.user)  # the admin admits only signed-in staff
        super().save_model(request, obj, form, change)

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Quiz], status: str) -> None:
        for quiz in queryset:
            try:
                services.quiz_status_set(code=quiz.code, status=status)
            except ApplicationError as exc:
                self.message_user(request, f"{quiz.code}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{quiz.code} is {status}.", messages.SUCCESS)

    @admin.action(description="Open selected quizzes (players can join)")
    def open_quizzes(self, request: HttpRequest, queryset: QuerySet[Quiz]) -> None:
        self._set_status(request, queryset, Quiz.Status.OPEN)

    @admin.action(description="Close selected quizzes (final leaderboard goes out live)")
    def close_quizzes(self, request: HttpRequest, queryset: QuerySet[Quiz]) -> None:
        self._set_status(request, queryset, Quiz.Status.CLOSED)

    @admin.action(description="Download results (CSV: per player and question)")
    def results_csv(self, request: HttpRequest, queryset: QuerySet[Quiz]) -> HttpResponse:
        text = results.results_csv(results.quiz_results(quiz=quiz) for quiz in queryset)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="quiz-results.csv"'
        return response


class GameRecordAdmin(ReadOnlyAdmin):
    """Game records are written by play, never by hand; staff may clear them."""

    deletable = True


@admin.register(Participant)
class ParticipantAdmin(GameRecordAdmin):
    list_display = ["nickname", "quiz", "score", "answered", "reached_score_at", "joined_at"]
    list_filter = ["quiz"]
    search_fields = ["nickname", "quiz__code"]
    exclude = ["token_hash"]
    list_select_related = ["quiz"]


@admin.register(Answer)
class AnswerAdmin(GameRecordAdmin):
    list_display = ["participant", "question", "choice", "result", "points", "answered_at"]
    list_filter = ["result", "participant__quiz"]
    list_select_related = ["participant", "question", "choice"]
