from __future__ import annotations

from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "tests.integration._orm_apps.helpdesk"
    label = "helpdesk"
    default_auto_field = "django.db.models.BigAutoField"
