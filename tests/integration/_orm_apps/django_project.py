"""A Django project configured in code, with two databases: ``default`` (a SQLite file)
and ``pg`` (a PostgreSQL schema, reached through ``search_path`` as Django's docs show).

Django is configured once per process (``settings.configure``); :func:`point` moves the
two connections to another file and schema between examples, as Django's own test
runner does for its test databases (``settings_dict["NAME"]``, then ``close()``).

The helpdesk's migration was made with::

    python -m tests.integration._orm_apps.django_project makemigrations
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import django
from django.conf import settings

from arrowferry.urls import parse_url

APP = "tests.integration._orm_apps.helpdesk"


def configure() -> None:
    if settings.configured:
        return
    settings.configure(
        INSTALLED_APPS=[APP],
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
            "pg": {"ENGINE": "django.db.backends.postgresql", "NAME": "postgres"},
        },
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


def point(sqlite_path: Path, pg_url: str, schema: str) -> None:
    """Aim ``default`` at ``sqlite_path`` and ``pg`` at ``schema`` of ``pg_url``."""
    configure()
    from django.db import connections

    endpoint = parse_url(pg_url)
    lite, pg = connections["default"], connections["pg"]
    lite.close()
    pg.close()
    lite.settings_dict["NAME"] = str(sqlite_path)
    pg.settings_dict.update(
        NAME=endpoint.database,
        USER=endpoint.username or "",
        PASSWORD=endpoint.password or "",
        HOST=endpoint.host or "",
        PORT=str(endpoint.port or ""),
        OPTIONS={"options": f"-c search_path={schema}"},
    )


def migrate(alias: str) -> None:
    """The app's migrations, applied to one database as ``manage.py migrate`` does."""
    from django.core.management import call_command

    call_command("migrate", database=alias, interactive=False, verbosity=0)


def close() -> None:
    from django.db import connections

    connections.close_all()


def models() -> Any:
    """The helpdesk's models module (importable only after :func:`configure`)."""
    configure()
    from tests.integration._orm_apps.helpdesk import models as m

    return m


if __name__ == "__main__":
    configure()
    from django.core.management import call_command

    call_command(*sys.argv[1:], "helpdesk")
