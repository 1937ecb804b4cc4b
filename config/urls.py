from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from config import health, views
from config.api import optional_slash

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="swagger-ui", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    *optional_slash("api/schema", SpectacularAPIView.as_view(), name="schema"),
    *optional_slash(
        "api/docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), "swagger-ui"
    ),
    *optional_slash("api/redoc", SpectacularRedocView.as_view(url_name="schema"), "redoc"),
    *optional_slash("api/me", views.MeView.as_view(), name="me"),
    path("api-auth/", include("rest_framework.urls")),
    # Ahead of admin.site.urls, which routes the same path to Django's unguarded view.
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(views.admin_view_on_site),
    ),
    path("admin/", admin.site.urls),
    path("_nested_admin/", include("nested_admin.urls")),
    path("", include("tutor.urls")),
    path("", include("dialogs.urls")),
    path("", include("quizzes.urls")),
]

handler400 = "config.errors.handler400"
handler403 = "config.errors.handler403"
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
