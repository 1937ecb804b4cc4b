"""Query filters of the staff quiz list: validation (400 naming the parameter) and the OpenAPI
parameters both come from the FilterSet."""

from __future__ import annotations

import django_filters

from quizzes.models import Quiz


class QuizListFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Quiz.Status.choices, help_text="Only quizzes in this status."
    )

    class Meta:
        model = Quiz
        fields = ["status"]
