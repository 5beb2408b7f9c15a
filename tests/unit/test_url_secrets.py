"""Secrets in URLs (issue 15, item 5): every way libpq takes a secret is masked wherever an
endpoint is shown, and still reaches the driver; the wait for a server is bounded."""

from __future__ import annotations

import pytest

from arrowferry.dialects.postgresql.connection import (
    DEFAULT_CONNECT_TIMEOUT,
    with_connect_timeout,
)
from arrowferry.urls import Endpoint, mask_url, parse_url, scrub

SECRET = "hunter2-secret"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://me:{SECRET}@db/app",
        f"postgresql://me@db/app?password={SECRET}",
        f"postgresql://db/app?password={SECRET}",  # no user: libpq's parameter stays one
        f"postgresql://me@db/app?sslmode=verify-full&sslpassword={SECRET}",
    ],
)
def test_every_secret_is_masked_and_still_reaches_the_driver(url: str) -> None:
    endpoint = parse_url(url)
    assert SECRET in endpoint.url
    for shown in (endpoint.masked_url, repr(endpoint), str(endpoint), mask_url(endpoint.url)):
        assert SECRET not in shown and "***" in shown, shown
    assert parse_url(endpoint.url) == endpoint  # the URL a driver gets means the same
    assert SECRET not in scrub(f"FATAL: {SECRET} rejected, url {endpoint.url}", endpoint)


def test_a_password_parameter_given_to_the_fields_moves_to_the_password() -> None:
    endpoint = Endpoint("postgresql", "app", host="db", params={"password": SECRET})
    assert endpoint.password == SECRET and "password" not in endpoint.params
    assert SECRET not in repr(endpoint)


def test_encoded_forms_of_a_password_are_scrubbed() -> None:
    endpoint = parse_url("postgresql://me:a%20b%2Bc%2F@db/app")
    assert endpoint.password == "a b+c/"
    assert scrub("a b+c/ a%20b%2Bc%2F a+b%2Bc%2F end", endpoint) == "*** *** *** end"


def test_connect_timeout_is_set_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    bounded = with_connect_timeout(parse_url("postgresql://me@db/app"))
    assert f"connect_timeout={DEFAULT_CONNECT_TIMEOUT}" in bounded.url
    own = parse_url("postgresql://me@db/app?connect_timeout=30")
    assert with_connect_timeout(own) == own
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "3")
    plain = parse_url("postgresql://me@db/app")
    assert with_connect_timeout(plain) == plain  # libpq reads the variable itself


def test_an_unexpected_error_is_shown_whole_with_its_passwords_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bug's traceback is kept (it is what a report needs), but not a password a
    driver or library put in its message."""
    from arrowferry.cli import handle_errors

    @handle_errors
    def broken(as_json: bool = False) -> None:
        raise RuntimeError(f"could not use postgresql://me:{SECRET}@db/app?password={SECRET}")

    with pytest.raises(SystemExit) as info:
        broken(as_json=True)
    assert info.value.code == 1
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert "Traceback" in err and "postgresql://me:***@db/app?password=***" in err
    assert err.rstrip().splitlines()[-1].startswith("error: internal error (RuntimeError)")
    assert '"success": false' in out
