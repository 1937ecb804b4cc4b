from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """Project-wide pieces that need an app: role groups (migration) and management commands."""

    name = "config"
    label = "platform"
    verbose_name = "Platform"
