"""SQL hooks: a run's ``before_sql`` and ``after_sql`` files, run on the target.

``before_sql`` runs once the target is prepared and before any table loads;
``after_sql`` once every table is finished (into a new SQLite file: inside it, before
it is renamed into place). Each file runs in one transaction, statement by statement
(:mod:`arrowferry.dialects.script` cuts it), in the target's own dialect: nothing is
translated. A statement that fails rolls the whole file back, and the error names the
file, the statement and its line. A dry run shows the statements and runs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arrowferry.dialects.script import ScriptError, ScriptStatement, split_script
from arrowferry.errors import BadInputError
from arrowferry.options import MigrationOptions, flag
from arrowferry.result import MigrationError
from arrowferry.urls import scrub
from arrowferry.wording import plural

if TYPE_CHECKING:
    from arrowferry.dialects.base import TargetSession
    from arrowferry.result import MigrationResult

PHASES = ("before_sql", "after_sql")


@dataclass(frozen=True)
class Hook:
    """One file of statements and the phase it runs in."""

    phase: str
    path: str
    statements: tuple[ScriptStatement, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "statements": [{"line": s.line, "sql": s.sql} for s in self.statements],
        }

    def run(self, target: TargetSession) -> None:
        """Run on ``target`` in one transaction; BadInputError naming the statement."""
        if not self.statements:
            return
        try:
            target.run_script([s.sql for s in self.statements])
        except ScriptError as err:
            failed = self.statements[min(err.index, len(self.statements) - 1)]
            at = (
                "at COMMIT"
                if err.index >= len(self.statements)
                else f"statement {err.index + 1} of {len(self.statements)} (line {failed.line})"
            )
            said = scrub(err.message, target.endpoint)
            raise BadInputError(
                f"{flag(self.phase, self.path)} failed {at}: {said}; none of the file's "
                "statements were kept"
            ) from None


@dataclass(frozen=True)
class Hooks:
    """A run's hooks (either may be None)."""

    before: Hook | None = None
    after: Hook | None = None

    @classmethod
    def load(cls, options: MigrationOptions, dialect: str) -> Hooks:
        """Read and cut the files the options name (SQL in ``dialect``, the target's)."""
        return cls(*(_load(p, getattr(options, p), dialect) for p in PHASES))

    def to_dict(self) -> dict[str, Any]:
        """The plan's ``hooks``: each file and its statements (empty: no hook)."""
        return {h.phase: h.to_dict() for h in (self.before, self.after) if h is not None}

    def run_before(self, target: TargetSession) -> None:
        if self.before is not None:
            self.before.run(target)

    def run_after(self, target: TargetSession, result: MigrationResult, *, complete: bool) -> bool:
        """Run ``after_sql`` when the run is ``complete`` (else say it was not run); whether
        the run is still complete: False (and the run's error) when it fails."""
        if self.after is None or not complete:
            if self.after is not None:
                result.warnings.append(
                    f"{flag('after_sql', self.after.path)} not run: the run stopped at an error"
                )
            return complete
        try:
            self.after.run(target)
        except BadInputError as err:
            result.errors.append(MigrationError(None, err.message, fatal=True))
            result.success = False
            return False
        return True


def _load(phase: str, path: str | None, dialect: str) -> Hook | None:
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{flag(phase, path)}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"{flag(phase, path)}: cannot read it ({err})") from None
    return Hook(phase, path, tuple(split_script(text, dialect)))


def hooks_text(plan: dict[str, Any]) -> list[str]:
    """The dry run's lines for the plan's hooks (none when it has none)."""
    out = []
    for phase, hook in plan.get("hooks", {}).items():
        when = "before any table loads" if phase == "before_sql" else "after every table"
        count = plural(len(hook["statements"]), "statement")
        out.append(f"{flag(phase)} {hook['file']} ({count}, {when}; not run in a dry run):")
        out += [f"  line {s['line']}: {s['sql']};" for s in hook["statements"]]
    return out
