"""Fixtures the integration tests share beyond the top-level ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration._throwaway_pg import ThrowawayServer, icu_bin


@pytest.fixture(scope="module")
def icu_server() -> Iterator[ThrowawayServer]:
    """A throwaway server of the machine's PostgreSQL whose databases' default collation
    is ICU en-US (as most servers run at a locale): where text sorts otherwise than
    bytes. The pgserver wheel's server has no ICU and only C locales."""
    found = ThrowawayServer(
        icu_bin(), ("--locale-provider=icu", "--icu-locale=en-US", "--locale=C.UTF-8")
    )
    found.start()
    yield found
    found.remove()
