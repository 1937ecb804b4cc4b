from django.urls import path

from config.api import optional_slash
from quizzes import game_views, pages, views

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
    *optional_slash(
        "api/quizzes/<str:code>/game/start", game_views.GameStartView.as_view(), "quiz-game-start"
    ),
    *optional_slash(
        "api/quizzes/<str:code>/game/reveal",
        game_views.GameRevealView.as_view(),
        "quiz-game-reveal",
    ),
    *optional_slash(
        "api/quizzes/<str:code>/game/next", game_views.GameNextView.as_view(), "quiz-game-next"
    ),
    *optional_slash(
        "api/quizzes/<str:code>/game/end", game_views.GameEndView.as_view(), "quiz-game-end"
    ),
    *optional_slash("api/quizzes/<str:code>/game", game_views.GameStateView.as_view(), "quiz-game"),
    *optional_slash(
        "api/quizzes/<str:code>/game/answers",
        game_views.GameAnswerView.as_view(),
        name="quiz-game-answers",
    ),
    *optional_slash(
        "api/quizzes/<str:code>/results", game_views.QuizResultsView.as_view(), "quiz-results"
    ),
    *optional_slash("quizzes/<str:code>/host", pages.quiz_host, name="quiz-host"),
    path("quizzes/<str:code>/", pages.quiz_play, name="quiz-play"),
    path("quizzes/<str:code>", pages.quiz_play),
    *optional_slash("quizzes/<str:code>/board", pages.quiz_board, name="quiz-board"),
]
