"""Every websocket route, collected from the apps that have them."""

from quizzes import routing as quizzes_routing

websocket_urlpatterns = [*quizzes_routing.websocket_urlpatterns]
