"""Every long option of `arrowferry migrate` is a keyword of af.migrate() (issue 11, item 12).

The list of options comes from click's command object, so a flag added later without a
keyword of the same name (dashes as underscores) fails here.
"""

from __future__ import annotations

from typing import Any

import click
import pytest

from arrowferry.cli import CLI_ONLY_OPTIONS, main, migrate
from arrowferry.errors import BadInputError
from arrowferry.options import MigrationOptions

# shape only what the command line prints; README says so
EXPECTED_CLI_ONLY = {"--json", "--quiet", "--no-progress"}
# keywords of af.migrate() itself rather than options: where the settings come from
MIGRATE_KEYWORDS = {"--config"}


def _long_options() -> list[click.Option]:
    return [p for p in migrate.params if isinstance(p, click.Option)]


def _long_name(option: click.Option) -> str:
    names = [o for o in option.opts if o.startswith("--")]
    assert len(names) == 1, f"{option.opts}: one long name expected"
    return names[0]


def _sample_args(option: click.Option) -> list[str]:
    """A command line giving the option a value other than its default."""
    flag = _long_name(option)
    if option.is_flag:
        return [flag]
    if isinstance(option.type, click.Choice):
        other = [c for c in option.type.choices if c != option.default]
        return [flag, str(other[0])]
    if isinstance(option.type, click.types.IntParamType):
        return [flag, "3"]
    return [flag, "k.c=text"]  # a pattern, a path, a schema name, a KEY=TYPE or T.C=C item


def _parse(argv: list[str]) -> dict[str, Any]:
    """`migrate`'s parameters for ``argv``, parsed under the group as a real run does
    (a context without its parent makes click cache a help option without -h)."""
    parent = click.Context(main, info_name="arrowferry", **main.context_settings)
    return migrate.make_context("migrate", ["src.db", *argv], parent=parent).params


def _options_from_cli(argv: list[str]) -> MigrationOptions:
    """The MigrationOptions the `migrate` command builds for ``argv``: its parameters
    minus the CLI-only ones, passed by name as the command passes them."""
    kwargs: dict[str, Any] = {
        k: v
        for k, v in _parse(argv).items()
        if k not in ("source", "target", "config", *CLI_ONLY_OPTIONS)
    }
    return MigrationOptions.from_kwargs(**kwargs)


def test_cli_only_options_are_exactly_the_output_ones() -> None:
    by_name = {o.name: _long_name(o) for o in _long_options()}
    assert {by_name[n] for n in CLI_ONLY_OPTIONS} == EXPECTED_CLI_ONLY


@pytest.mark.parametrize("option", _long_options(), ids=_long_name)
def test_every_long_option_is_a_keyword_of_the_same_name(option: click.Option) -> None:
    flag = _long_name(option)
    if flag in EXPECTED_CLI_ONLY:
        return
    keyword = flag[2:].replace("-", "_")
    if flag in MIGRATE_KEYWORDS:
        import inspect

        import arrowferry

        assert option.name == keyword
        assert keyword in inspect.signature(arrowferry.migrate).parameters
        assert keyword in inspect.signature(arrowferry.Migration).parameters
        return
    assert option.name == keyword, (
        f"{flag} reaches migrate() as {option.name}=, not {keyword}= (name the click "
        "parameter after the flag and accept it in MigrationOptions)"
    )
    assert keyword in MigrationOptions.keywords(), f"{flag}: migrate() has no keyword {keyword}"
    # the options of a data-only run take --data-only with them
    # (and those of an incremental run --incremental)
    base = ["--data-only"] if flag in DATA_ONLY else []
    base = ["--incremental"] if flag in INCREMENTAL else base
    default = _options_from_cli(base)
    through_cli = _options_from_cli([*base, *_sample_args(option)])
    assert through_cli != default, f"{flag} changes nothing in the options"
    # the same value, given to the API under the flag's name, builds the same options
    value = _parse(_sample_args(option))[keyword]
    extra: dict[str, Any] = {"data_only": True} if base else {}
    extra = {"incremental": True} if flag in INCREMENTAL else extra
    assert MigrationOptions.from_kwargs(**{keyword: value}, **extra) == through_cli


INCREMENTAL = {"--cursor", "--full-refresh", "--detect-deletes", "--full-refresh-unkeyed"}
DATA_ONLY = {"--column-map", "--ignore-missing-columns", "--strict-schema", "--rebuild-indexes"}


def test_data_only_options_need_data_only() -> None:
    for keyword in ("column_map", "ignore_missing_columns", "strict_schema", "rebuild_indexes"):
        value: Any = ["t.a=b"] if keyword == "column_map" else True
        with pytest.raises(BadInputError, match="applies to --data-only"):
            MigrationOptions.from_kwargs(**{keyword: value})


def test_the_cli_spellings_work_in_python() -> None:
    got = MigrationOptions.from_kwargs(
        include=["Album*"], exclude="tmp_*", type_map={"Custom": "text"}, no_views=True
    )
    assert got.include_tables == ("Album*",)
    assert got.exclude_tables == ("tmp_*",)
    assert got.type_mappings == {"Custom": "text"}
    assert got.create_views is False
    # the CLI's KEY=TYPE strings too
    assert MigrationOptions.from_kwargs(type_map=["a.b=numeric(12,2)"]).type_mappings == {
        "a.b": "numeric(12,2)"
    }
    # both names for one option must agree
    with pytest.raises(Exception, match="two names"):
        MigrationOptions.from_kwargs(no_views=True, create_views=True)
    assert MigrationOptions.from_kwargs(no_views=False, create_views=True).create_views


def test_the_readme_says_which_flags_have_no_keyword() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    *first, last = [f"`{f}`" for f in sorted(EXPECTED_CLI_ONLY)]
    listed = f"{', '.join(first)} and {last}"
    assert f"Only {listed} have no keyword" in readme
