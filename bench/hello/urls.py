from django.http import HttpRequest, JsonResponse
from django.urls import path


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "hello", "ok": True})


urlpatterns = [path("hello", hello)]
