from django.urls import path

from quizzes import consumers

websocket_urlpatterns = [
    path("ws/quizzes/<str:code>/", consumers.LeaderboardConsumer.as_asgi()),
]
