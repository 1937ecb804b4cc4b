from django.urls import path

from quizzes import consumers, converters  # noqa: F401 (converters registers `quiz_code`)

websocket_urlpatterns = [
    path("ws/quizzes/<quiz_code:code>/", consumers.LeaderboardConsumer.as_asgi()),
    # Not a code at all: the same 4404 close as an unknown quiz, not a failed route.
    path("ws/quizzes/<str:code>/", consumers.UnknownQuizConsumer.as_asgi()),
]
