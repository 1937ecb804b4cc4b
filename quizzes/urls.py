from django.urls import path

from config.api import optional_slash
from quizzes import converters, game_views, pages, views  # noqa: F401 (converters: `quiz_code`)

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
    *optional_slash(
        "api/quizzes/<quiz_code:code>/results",
        game_views.QuizResultsView.as_view(),
        name="quiz-results",
    ),
    # Hosted games: the host's moves (staff), the state and answers (players).
    *optional_slash(
        "api/quizzes/<quiz_code:code>/game", game_views.GameStateView.as_view(), name="quiz-game"
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/game/start",
        game_views.GameStartView.as_view(),
        name="quiz-game-start",
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/game/reveal",
        game_views.GameRevealView.as_view(),
        name="quiz-game-reveal",
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/game/next",
        game_views.GameNextView.as_view(),
        name="quiz-game-next",
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/game/end",
        game_views.GameEndView.as_view(),
        name="quiz-game-end",
    ),
    *optional_slash(
        "api/quizzes/<quiz_code:code>/game/answers",
        game_views.GameAnswerView.as_view(),
        name="quiz-game-answers",
    ),
    path("quizzes/<quiz_code:code>/", pages.quiz_play, name="quiz-play"),
    path("quizzes/<quiz_code:code>", pages.quiz_play),
    *optional_slash("quizzes/<quiz_code:code>/board", pages.quiz_board, name="quiz-board"),
    *optional_slash("quizzes/<quiz_code:code>/host", pages.quiz_host, name="quiz-host"),
    # A segment that cannot be a code still gets the players' not-found page, not a JSON 404.
    path("quizzes/<str:code>/", pages.quiz_code_invalid),
    path("quizzes/<str:code>", pages.quiz_code_invalid),
    path("quizzes/<str:code>/board", pages.quiz_code_invalid),
    path("quizzes/<str:code>/board/", pages.quiz_code_invalid),
    path("quizzes/<str:code>/host", pages.quiz_code_invalid),
    path("quizzes/<str:code>/host/", pages.quiz_code_invalid),
]
