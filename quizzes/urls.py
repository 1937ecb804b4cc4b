from django.urls import path

from config.api import optional_slash
from quizzes import pages, views

urlpatterns = [
    *optional_slash("api/quizzes", views.QuizListCreateView.as_view(), name="quizzes"),
    *optional_slash("api/quizzes/<str:code>", views.QuizDetailView.as_view(), name="quiz"),
    *optional_slash("api/quizzes/<str:code>/join", views.QuizJoinView.as_view(), name="quiz-join"),
    *optional_slash("api/quizzes/<str:code>/next", views.QuizNextView.as_view(), name="quiz-next"),
    *optional_slash(
        "api/quizzes/<str:code>/answers", views.QuizAnswerView.as_view(), name="quiz-answers"
    ),
    *optional_slash(
        "api/quizzes/<str:code>/leaderboard",
        views.QuizLeaderboardView.as_view(),
        name="quiz-leaderboard",
    ),
    path("quizzes/<str:code>/", pages.quiz_play, name="quiz-play"),
    path("quizzes/<str:code>", pages.quiz_play),
    *optional_slash("quizzes/<str:code>/board", pages.quiz_board, name="quiz-board"),
]
