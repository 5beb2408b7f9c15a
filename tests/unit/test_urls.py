from __future__ import annotations

from pathlib import Path

import pytest

from arrowferry.errors import BadInputError, SourceError
from arrowferry.urls import Endpoint, mask_url, parse_url, scrub


@pytest.mark.parametrize(
    ("url", "database", "host", "port", "user"),
    [
        ("postgresql://me:pw@db:5433/app", "app", "db", 5433, "me"),
        ("postgres://me@db/app", "app", "db", None, "me"),
        ("postgresql://me@%2Fvar%2Frun%2Fpostgresql/app", "app", "/var/run/postgresql", None, "me"),
        ("postgresql://me@/app?host=/tmp/sock", "app", "/tmp/sock", None, "me"),
        ("postgresql:///app", "app", None, None, None),
    ],
)
def test_postgres_urls_parse(
    url: str, database: str, host: str | None, port: int | None, user: str | None
) -> None:
    e = parse_url(url)
    assert (e.dialect, e.database, e.host, e.port, e.username) == (
        "postgresql",
        database,
        host,
        port,
        user,
    )


def test_libpq_parameters_pass_through_and_password_is_masked() -> None:
    e = parse_url(
        "postgres://me:p%40ss@db:5433/app?sslmode=require&connect_timeout=3&application_name=x"
    )
    assert e.password == "p@ss"
    assert "sslmode=require" in e.url and "connect_timeout=3" in e.url
    assert "p%40ss" in e.url  # the driver gets the real (quoted) password
    assert "p@ss" not in e.masked_url and "p%40ss" not in e.masked_url and "***" in e.masked_url


def test_endpoint_fields_build_a_url() -> None:
    e = Endpoint(
        "postgresql", "app", host="db", port=5432, username="me", password="s3cret", ssl=True
    )
    assert e.url == "postgresql://me:s3cret@db:5432/app?sslmode=require"
    assert e.masked_url == "postgresql://me:***@db:5432/app?sslmode=require"
    assert "s3cret" not in repr(e)
    assert parse_url(e.url) == e.__class__(
        "postgresql", "app", "db", 5432, "me", "s3cret", {"sslmode": "require"}
    )


def test_sqlite_urls(tmp_path: Path) -> None:
    assert parse_url("sqlite:///data/app.db").database == "data/app.db"
    assert parse_url("sqlite:////abs/app.db").database == "/abs/app.db"
    f = tmp_path / "x.db"
    f.write_bytes(b"")
    assert parse_url(str(f)) == Endpoint("sqlite", str(f))


def test_unknown_scheme_and_missing_file() -> None:
    with pytest.raises(BadInputError, match="unknown URL scheme 'mysql'"):
        parse_url("mysql://me:secret@db/app")
    with pytest.raises(SourceError, match="neither a connection URL nor an existing file"):
        parse_url("no/such/file.db")


def test_masking_in_free_text() -> None:
    text = "could not connect postgresql://u:hunter2@h/db (password=hunter2 x)"
    masked = mask_url(text)
    assert "hunter2" not in masked
    assert "hunter2" not in scrub("FATAL: hunter2", parse_url("postgresql://u:hunter2@h/db"))


def test_a_space_in_a_parameter_stays_a_space_for_libpq() -> None:
    # libpq does not decode '+' in a parameter: the space of "-c statement_timeout=1500"
    # must go as %20, or the server reads an option it does not know
    from arrowferry.urls import parse_url

    url = parse_url("postgresql://u@h/db?options=-c%20statement_timeout%3D1500").url
    assert "options=-c%20statement_timeout%3D1500" in url and "+" not in url
