"""A migration's settings in a TOML file, for runs repeated until cut-over.

``arrowferry migrate --config migration.toml`` (or ``Migration(config=...)``,
``Migration.from_config(path)``) reads::

    source = "app.db"                          # a SQLite file or a postgresql:// URL
    target = "postgresql://me@db/app"          # never a password: PGPASSWORD or ~/.pgpass
    cursor = "updated_at"                      # incremental runs (--incremental) read it

    [options]                                  # any keyword of af.migrate()
    workers = 4
    identifiers = "snake_case"
    exclude = ["tmp_*"]

    [type_mappings]                            # as --type-map
    "orders.total" = "numeric(12,2)"

    [column_mappings]                          # as --column-map (data_only)
    "users.mail" = "email"

    [transforms]                               # as --transform
    "users.email" = "lower(email)"

    [renames]                                  # diff and sync, as --rename
    "people" = "users"

    [cursors]                                  # per table, over ``cursor``
    orders = "modified_at"

    [hooks]                                    # as --before-sql / --after-sql
    before_sql = "hooks/before.sql"
    after_sql = "hooks/after.sql"

Relative paths (a SQLite file, a hook, ``reject_dir``) are relative to the file.
Settings given on the command line or as keywords override the file's. An unknown key
is an error naming it and the closest known one; a URL holding a password is refused
(naming the key, never the password), so the file can be committed.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from arrowferry.errors import BadInputError
from arrowferry.options import MigrationOptions, canonical
from arrowferry.urls import Endpoint, mask_url, parse_url

TOP_LEVEL = (
    "source",
    "target",
    "cursor",
    "options",
    "type_mappings",
    "column_mappings",
    "transforms",
    "renames",
    "cursors",
    "hooks",
)
HOOKS = ("before_sql", "after_sql")
_SECTIONS = {
    "type_mappings": "type_mappings",
    "column_mappings": "column_mappings",
    "transforms": "transforms",
}
_PATHS = ("before_sql", "after_sql", "reject_dir")  # resolved against the file's folder


@dataclass
class Settings:
    """A run's settings once the file and what was given over it are merged.

    ``origins`` says where each of ``source``, ``target`` and the options came from
    (the file's path, or ``given``: a flag or keyword).
    """

    source: Any = None
    target: Any = None
    options: dict[str, Any] = field(default_factory=dict)  # MigrationOptions field names
    renames: dict[str, str] = field(default_factory=dict)
    cursor: str | None = None
    cursors: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    path: str | None = None

    def describe(self) -> list[str]:
        """The merged settings as the dry run prints them (URLs masked), one a line."""
        lines = []
        for key in ("source", "target"):
            value = getattr(self, key)
            shown = _shown(value) if value is not None else "(none)"
            lines.append(f"{key} = {shown}  [{self.origins.get(key, 'default')}]")
        for name in sorted(self.options):
            lines.append(f"{name} = {self.options[name]!r}  [{self.origins.get(name, '?')}]")
        if self.renames:
            lines.append(f"renames = {self.renames!r}  [{self.path}]")
        if (self.cursor is not None or self.cursors) and "cursor" not in self.options:
            lines.append(
                f"cursor = {self.cursor!r}, cursors = {self.cursors!r}  [{self.path}] "
                "(read by incremental runs: --incremental)"
            )
        return lines

    def notes(self) -> list[str]:
        """A run's warnings about the file: cursors it names that this run does not read."""
        if (self.cursor is None and not self.cursors) or "cursor" in self.options:
            return []
        return [
            f"{self.path}: cursor and [cursors] are for incremental runs (--incremental); "
            "this run copies every row"
        ]


def _shown(value: Any) -> str:
    if isinstance(value, Endpoint):
        return value.masked_url
    return mask_url(os.fspath(value))


def load(path: str | os.PathLike[str]) -> Settings:
    """The file's settings, checked: unknown keys, wrong types, passwords refused."""
    where = Path(path)
    try:
        with where.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise BadInputError(f"--config {str(where)!r}: no such file") from None
    except tomllib.TOMLDecodeError as err:
        raise BadInputError(f"--config {str(where)!r} is not valid TOML: {err}") from None
    except OSError as err:
        raise BadInputError(f"--config {str(where)!r}: cannot read it ({err})") from None
    name = str(where)
    base = where.resolve().parent
    _known(data, TOP_LEVEL, name, "")
    out = Settings(path=name)
    for key in ("source", "target"):
        if key in data:
            setattr(out, key, _url(data[key], key, name, base))
            out.origins[key] = name
    options = _options(_table(data, "options", name), name)
    for section, option in _SECTIONS.items():
        if section in data:
            if option in options:
                raise BadInputError(
                    f"{name}: {section} is given twice, as [{section}] and in [options]"
                )
            options[option] = _strings(data, section, name)
    hooks = _table(data, "hooks", name)
    _known(hooks, HOOKS, name, "hooks.")
    for key, value in hooks.items():
        if key in options:
            raise BadInputError(f"{name}: {key} is given twice, in [hooks] and in [options]")
        options[key] = _string(value, f"hooks.{key}", name)
    for key in _PATHS:
        if options.get(key) is not None:
            options[key] = str(base / os.path.expanduser(options[key]))
    out.options = options
    out.origins.update(dict.fromkeys(options, name))
    out.renames = _strings(data, "renames", name)
    if "cursor" in data:
        out.cursor = _string(data["cursor"], "cursor", name)
    out.cursors = _strings(data, "cursors", name)
    return out


def merge(
    config: str | os.PathLike[str] | None,
    source: Any,
    target: Any,
    given: Mapping[str, Any],
    options: MigrationOptions | None = None,
) -> Settings:
    """The file's settings with ``source``, ``target`` and the options ``given`` (flags or
    keywords, any spelling) over them."""
    if options is not None and config is not None:
        raise BadInputError(
            "give the options in the config file or as keywords; options= (a whole "
            "MigrationOptions) cannot be merged with a config file"
        )
    out = load(config) if config is not None else Settings()
    for key, value in (("source", source), ("target", target)):
        if value is not None:
            setattr(out, key, value)
            out.origins[key] = "given"
    over = canonical(given)
    out.options = {**out.options, **over}
    out.origins.update(dict.fromkeys(over, "given"))
    incremental = out.options.get("mode") == "incremental" or out.options.get("incremental")
    if incremental and "cursor" not in out.options and (out.cursor or out.cursors):
        # the file's cursors, for a run that is incremental (by the file or a flag)
        cursors = {"*": out.cursor} if out.cursor else {}
        out.options["cursor"] = {**cursors, **out.cursors}
        out.origins["cursor"] = str(out.path)
    if out.source is None:
        raise BadInputError(
            "a migration needs a source: a SQLite file or a PostgreSQL URL"
            + (f" (give one, or source = ... in {out.path})" if out.path else "")
        )
    return out


# --- checks ------------------------------------------------------------------------------


def _known(
    table: Mapping[str, Any], known: tuple[str, ...] | frozenset[str], path: str, prefix: str
) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.5)
            hint = f"; did you mean {prefix + close[0]!r}?" if close else ""
            raise BadInputError(
                f"{path}: unknown key {prefix + key!r}{hint} (known: {', '.join(sorted(known))})"
            )


def _table(data: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise BadInputError(f"{path}: {key} must be a table ([{key}]), not {_kind(value)}")
    return value


def _strings(data: Mapping[str, Any], key: str, path: str) -> dict[str, str]:
    return {k: _string(v, f"{key}.{k}", path) for k, v in _table(data, key, path).items()}


def _string(value: Any, key: str, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInputError(f"{path}: {key} must be a non-empty string, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _url(value: Any, key: str, path: str, base: Path) -> str:
    """A source or target: never with a password; a relative SQLite path made the file's."""
    text = _string(value, key, path)
    try:
        endpoint = parse_url(text, must_exist=False)
    except BadInputError as err:
        raise BadInputError(f"{path}: {key}: {err.message}") from None
    if endpoint.secrets:
        raise BadInputError(
            f"{path}: {key} holds a password, and arrowferry never reads one from a file: take "
            "it out of the URL and set PGPASSWORD, or add a line to ~/.pgpass (libpq reads both)"
        )
    if endpoint.dialect == "sqlite":
        return str(base / os.path.expanduser(endpoint.database))
    return text


def _options(table: dict[str, Any], path: str) -> dict[str, Any]:
    """[options] under the field names, each value of the field's kind."""
    known = MigrationOptions.keywords()
    _known(table, known, path, "options.")
    for key, value in table.items():
        expected = _EXPECTED[key] if key in _EXPECTED else _field_kind(key)
        if not any(_is(value, kind) for kind in expected):
            raise BadInputError(
                f"{path}: options.{key} must be {' or '.join(_NAMES[k] for k in expected)}, "
                f"not {_kind(value)} ({value!r})"
            )
    try:
        return canonical(table)
    except BadInputError as err:
        raise BadInputError(f"{path}: {err.message}") from None


_NAMES = {
    "bool": "true or false",
    "int": "an integer",
    "str": "a string",
    "strings": "an array of strings",
    "table": "a table of strings",
}
# keywords whose kind their field's annotation does not say
_EXPECTED: dict[str, tuple[str, ...]] = {
    "include": ("strings", "str"),
    "exclude": ("strings", "str"),
    "type_map": ("table", "strings"),
    "column_map": ("table", "strings"),
    "transform": ("table", "strings"),
    "no_views": ("bool",),
}


def _field_kind(name: str) -> tuple[str, ...]:
    annotation = str(next(f.type for f in fields(MigrationOptions) if f.name == name))
    if annotation == "bool":
        return ("bool",)
    if annotation.startswith("int"):
        return ("int",)
    if annotation.startswith("tuple"):
        return ("strings", "str")
    if annotation.startswith("Mapping"):
        return ("table",)
    return ("str",)  # str, str | None and the Literal choices (checked by the options)


def _is(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


@dataclass(frozen=True)
class SchemaSides:
    """What ``diff`` and ``sync`` compare: a (the desired state, the file's source) and b
    (the file's target), the renames, each side's PostgreSQL schema, the naming policy."""

    a: str
    b: str
    renames: dict[str, str]
    a_schema: str | None
    b_schema: str | None
    identifiers: str
    text_collation: str = "C"


def schema_sides(
    config: str | None,
    a: str | None,
    b: str | None,
    *,
    renames: Mapping[str, str],
    a_schema: str | None,
    b_schema: str | None,
    identifiers: str | None,
) -> SchemaSides:
    """The file's source, target, renames, schemas and ``identifiers``, with what is
    given over them (a rename given replaces the file's of the same old name)."""
    found = load(config) if config is not None else Settings()
    first, second = a or found.source, b or found.target
    if first is not None and second is None and config is None:
        from arrowferry.embedded import default_target  # the embedded database it made

        second = default_target(str(first))
    if first is None or second is None:
        raise BadInputError(
            "two databases are needed: give both, or source and target in a --config file"
        )
    options = found.options

    def schema(url: str, given: str | None, key: str) -> str | None:
        if given is not None or options.get(key) is None:
            return given
        return options[key] if parse_url(url, must_exist=False).dialect == "postgresql" else None

    return SchemaSides(
        first,
        second,
        {**found.renames, **renames},
        schema(first, a_schema, "source_schema"),
        schema(second, b_schema, "target_schema"),
        identifiers or options.get("identifiers", "quote"),
        str(options.get("text_collation", "C")),
    )
