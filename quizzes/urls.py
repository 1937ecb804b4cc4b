from django.urls import path

from config.api import optional_slash
from quizzes import converters, pages, views  # noqa: F401 (converters registers `quiz_code`)

urlpatterns = [
    *optional_slash("api/quizzes", views.QuizListCreateView.as_view(), name="quizzes"),
    *optional_slash("api/quizzes/<quiz_code:code>", views.QuizDetailView.as_view(), name="quiz"),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/join", views.QuizJoinView.as_view(), name="quiz-join"
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/next", views.QuizNextView.as_view(), name="quiz-next"
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/answers", views.QuizAnswerView.as_view(), name="quiz-answers"
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/leaderboard",
        views.QuizLeaderboardView.as_view(),
        name="quiz-leaderboard",
    ),
    path("quizzes/<quiz_code:code>/", pages.quiz_play, name="quiz-play"),
    path("quizzes/<quiz_code:code>", pages.quiz_play),
    *optional_slash("quizzes/<quiz_code:code>/board", pages.quiz_board, name="quiz-board"),
    # A segment that cannot be a code still gets the players' not-found page, not a JSON 404.
    path("quizzes/<str:code>/", pages.quiz_code_invalid),
    path("quizzes/<str:code>", pages.quiz_code_invalid),
    path("quizzes/<str:code>/board", pages.quiz_code_invalid),
    path("quizzes/<str:code>/board/", pages.quiz_code_invalid),
]
