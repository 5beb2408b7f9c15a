"""Connection URLs: parse, build from endpoint fields, and mask passwords.

Accepted forms: ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, a bare path to an
existing file, and libpq URLs ``postgresql://`` / ``postgres://`` with user, password,
host, port, a unix-socket host (``?host=/run/postgresql`` or ``%2Frun%2Fpostgresql``)
and any libpq parameter (``sslmode``, ``connect_timeout``...), which are passed through
untouched, so ``PGPASSWORD`` and ``~/.pgpass`` work as they do with psql.
A password never leaves this module unmasked except inside the URL handed to libpq.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit

from arrowferry.errors import BadInputError, SourceError

Dialect = Literal["sqlite", "postgresql"]
MASK = "***"
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):")


@dataclass(frozen=True)
class Endpoint:
    """Where a database is, with the fields of the reference API.

    Parameters
    ----------
    dialect
        ``"sqlite"`` or ``"postgresql"``.
    database
        The SQLite file path, or the PostgreSQL database name.
    host, port, username, password
        PostgreSQL server and login (a host starting with ``/`` is a unix-socket directory).
    ssl
        ``True`` for ``sslmode=require``, or a mapping of libpq SSL parameters
        (``{"sslmode": "verify-full", "sslrootcert": "ca.pem"}``).
    params
        Any other libpq parameters, passed through.

    Examples
    --------
    >>> Endpoint("postgresql", "app", host="db", username="me", password="s3cret").masked_url
    'postgresql://me:***@db/app'
    """

    dialect: Dialect
    database: str
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool | dict[str, str] | None = None
    params: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # libpq also takes the password as a parameter (``?password=...``); kept there it
        # would be printed with the other parameters, so it moves to the masked field
        if "password" in self.params:
            params = dict(self.params)
            given = params.pop("password")
            object.__setattr__(self, "params", params)
            if self.password is None:
                object.__setattr__(self, "password", given)

    def __repr__(self) -> str:
        # the dataclass repr would show ``params`` and ``ssl`` (which may hold an
        # ``sslpassword``); this one shows only what is safe to print
        return f"Endpoint({self.masked_url!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret this endpoint holds (password, SSL key passphrase), for scrubbing."""
        found = [self.password] if self.password else []
        found += [v for k, v in _ssl_params(self.ssl).items() if _is_secret(k) and v]
        return tuple(found)

    @property
    def url(self) -> str:
        """The full URL, password included: hand it to a driver, never print it."""
        return self._build(masked=False)

    @property
    def masked_url(self) -> str:
        """The URL with any password replaced by ``***``: safe to print and log."""
        return self._build(masked=True)

    @property
    def path(self) -> Path:
        if self.dialect != "sqlite":
            raise BadInputError(f"{self.masked_url} is not a SQLite file")
        return Path(self.database)

    def _build(self, *, masked: bool) -> str:
        if self.dialect == "sqlite":
            return "sqlite:///" + self.database
        netloc = ""
        params = dict(self.params)
        password = (MASK if masked else self.password) if self.password else None
        if self.username:
            netloc = quote(self.username, safe="")
            if password:
                netloc += ":" + (password if masked else quote(password, safe=""))
            netloc += "@"
        elif password:
            params["password"] = password  # no user to hang it on: libpq's parameter
        host = self.host or ""
        if host.startswith("/"):
            params.setdefault("host", host)
            host = ""
        if ":" in host:
            host = f"[{host}]"
        netloc += host
        if self.port:
            netloc += f":{self.port}"
        params.update(_ssl_params(self.ssl))
        if masked:
            params = {k: (MASK if _is_secret(k) and v else v) for k, v in params.items()}
        # %20, not +: libpq does not decode + in a parameter (options=-c statement_timeout=1s)
        query = ("?" + urlencode(params, safe="/*", quote_via=quote)) if params else ""
        return f"postgresql://{netloc}/{quote(self.database, safe='')}{query}"


def _is_secret(key: str) -> bool:
    """libpq parameters that hold a secret: ``password`` and ``sslpassword``."""
    return key.lower().endswith("password")


def _ssl_params(ssl: bool | dict[str, str] | None) -> dict[str, str]:
    if ssl is True:
        return {"sslmode": "require"}
    if ssl is False:
        return {"sslmode": "disable"}
    return dict(ssl or {})


def parse_url(text: str | os.PathLike[str], *, must_exist: bool = True) -> Endpoint:
    """Parse a connection URL or a path to a SQLite file (existing, unless ``must_exist``
    is false: a target file may be created).

    Examples
    --------
    >>> parse_url("postgres://me:pw@db:5433/app?sslmode=require").masked_url
    'postgresql://me:***@db:5433/app?sslmode=require'
    >>> parse_url("sqlite:///data/app.db").database
    'data/app.db'
    """
    text = os.fspath(text)
    match = _SCHEME.match(text)
    scheme = match["scheme"].lower() if match else ""
    if scheme in {"postgresql", "postgres"}:
        return _parse_pg(text)
    if scheme == "sqlite":
        rest = text[match.end() :] if match else text
        if rest.startswith("//"):
            rest = rest[2:]
            rest = rest[1:] if rest.startswith("/") else rest
        if not rest:
            raise BadInputError(f"{text!r} names no SQLite file (use sqlite:///path/to/file.db)")
        return Endpoint("sqlite", unquote(rest))
    if match and len(scheme) > 1 and not Path(text).exists():
        raise BadInputError(
            f"unknown URL scheme {scheme!r} in {mask_url(text)!r}: arrowferry reads and writes "
            "sqlite:///path/to/file.db (or a plain file path) and postgresql://user@host/db"
        )
    if must_exist and not Path(text).exists():
        raise SourceError(
            f"{text!r} is neither a connection URL nor an existing file "
            "(use sqlite:///path/to/file.db or postgresql://user@host/db)"
        )
    return Endpoint("sqlite", text)


def _parse_pg(text: str) -> Endpoint:
    parts = urlsplit(text)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    host: str | None = unquote(parts.hostname or "") or None
    if parts.netloc and "@" in parts.netloc:
        hostpart = parts.netloc.rsplit("@", 1)[1]
    else:
        hostpart = parts.netloc
    if hostpart.startswith("%2F") or hostpart.startswith("%2f"):
        host = unquote(hostpart.split(":")[0])
    if "host" in params and not host:
        host = params.pop("host")
    try:
        port = parts.port
    except ValueError as err:
        raise BadInputError(f"bad port in {mask_url(text)!r}") from err
    ssl: dict[str, str] | None = None
    ssl_keys = [k for k in params if k.startswith("ssl")]
    if ssl_keys:
        ssl = {k: params.pop(k) for k in ssl_keys}
    return Endpoint(
        "postgresql",
        unquote(parts.path.lstrip("/")) or "",
        host=host,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        ssl=ssl,
        params=params,
    )


_NETLOC_PW = re.compile(
    r"(?P<pre>[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)(?P<pw>[^@/?#\s]*)(?P<at>@)", re.I
)
_QUERY_PW = re.compile(
    r"(?P<pre>\b(?:ssl)?password\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^&\s)]*)", re.I
)


def mask_url(text: str) -> str:
    """Replace every password in ``text`` (URL userinfo or ``password=``) with ``***``."""
    text = _NETLOC_PW.sub(lambda m: m["pre"] + (MASK if m["pw"] else "") + m["at"], text)
    return _QUERY_PW.sub(lambda m: m["pre"] + MASK, text)


def scrub(message: str, *endpoints: Endpoint | None) -> str:
    """Mask URLs in a driver message and remove any literal password it quotes."""
    message = mask_url(message)
    for endpoint in endpoints:
        for secret in endpoint.secrets if endpoint is not None else ():
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                message = message.replace(form, MASK)
    return message


def sqlite_uri(path: Path, *, read_only: bool) -> str:
    """A SQLite URI filename (works with paths holding spaces, ``?`` or ``#``)."""
    mode = "ro" if read_only else "rwc"
    return f"file:{quote(str(path.resolve()))}?mode={mode}"
