"""One exception root with structured leaves.

Every error arrowferry raises is an :class:`ArrowferryError`. Each leaf carries the
structured fields a caller needs (table, column, row, value, SQLSTATE) and an
``exit_code`` that the command line uses, so the CLI never has to guess.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_DIFFERENCES = 1  # finished with errors, rows rejected, differences found
EXIT_BAD_INPUT = 2  # usage, connection or bad input: nothing was done
EXIT_UNSAFE = 3  # a destructive change was refused


class ArrowferryError(Exception):
    """Root of every error arrowferry raises.

    Parameters
    ----------
    message
        One paragraph a user can act on. Never contains a password.
    sqlstate
        The SQLSTATE of the driver error this one wraps, when there is one.
    """

    exit_code: int = EXIT_BAD_INPUT

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate

    def __str__(self) -> str:
        return self.message


class BadInputError(ArrowferryError):
    """The user's input cannot be used: a bad URL, a missing file, an unknown table."""


class SourceError(BadInputError):
    """The source database cannot be opened or read (missing, not SQLite, corrupt)."""


class ConnectError(BadInputError):
    """A database server could not be reached or refused the login.

    Attributes
    ----------
    answered_at
        ``time.monotonic()`` of the last connection this process opened to the same
        server, or None: a refused connection to a server that answered a moment ago is
        a restart (worth another try), to one that never answered a wrong address.
    """

    answered_at: float | None = None


class DatabaseMissingError(ConnectError):
    """The server answered, but the database named in the URL does not exist.

    Attributes
    ----------
    database
        The missing database's name (``--create-db`` creates a missing target).
    url
        The server's URL, password masked.
    """

    def __init__(self, message: str, *, database: str, url: str) -> None:
        super().__init__(message, sqlstate="3D000")  # invalid_catalog_name
        self.database = database
        self.url = url


class SchemaError(ArrowferryError):
    """The schema cannot be carried over as asked (name collisions, existing tables)."""


class TargetExistsError(SchemaError):
    """A table to be created already exists in the target."""


class LeftoverStateError(BadInputError):
    """An interrupted run left its state in the target (``where``): ``--resume``
    finishes it; a run that is not the same run cannot."""

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(message)
        self.where = where


class UnsupportedTypeError(SchemaError):
    """A declared type or an Arrow type has no faithful mapping.

    Attributes
    ----------
    table, column, type
        Where the type was found and what it is.
    """

    def __init__(self, message: str, *, table: str, column: str, type: str) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.type = type


class ConversionError(ArrowferryError):
    """A value cannot be converted to its target type without changing it.

    Attributes
    ----------
    table, column
        Where the value is.
    row
        The SQLite rowid (or primary key) of the row holding it.
    value
        The original value, as read.
    """

    exit_code = EXIT_DIFFERENCES

    def __init__(
        self, message: str, *, table: str, column: str, row: Any = None, value: Any = None
    ) -> None:
        super().__init__(message)
        self.table = table
        self.column = column
        self.row = row
        self.value = value


class TransferError(ArrowferryError):
    """Moving a table's rows failed; the table's load was rolled back."""

    exit_code = EXIT_DIFFERENCES

    def __init__(self, message: str, *, table: str, sqlstate: str | None = None) -> None:
        super().__init__(message, sqlstate=sqlstate)
        self.table = table


class WriterTypeError(TransferError):
    """An Arrow field does not match the exact type the target column accepts.

    PostgreSQL's binary COPY reinterprets the bytes of a value of the wrong width
    instead of rejecting it, so this check runs before any byte is sent.
    """

    def __init__(self, message: str, *, table: str, column: str, arrow_type: str, target: str):
        super().__init__(message, table=table)
        self.column = column
        self.arrow_type = arrow_type
        self.target = target


class VerificationError(ArrowferryError):
    """The target's content differs from the source's."""

    exit_code = EXIT_DIFFERENCES


class UnsafeChangeError(ArrowferryError):
    """A destructive change was needed but not allowed."""

    exit_code = EXIT_UNSAFE


class ReadTypeChanged(TransferError):
    """A column's values were not of the storage class the plan read it as.

    Internal: the pipeline rolls the table back and reads that column as text.
    The SQLite driver fixes a column's Arrow type from its first batch and refuses
    or re-renders later values of another class (driver-traps.md A), so a clean
    fast read is tried first and a surprise sends the table down the exact path.
    """

    def __init__(self, table: str, index: int, detail: str) -> None:
        super().__init__(
            f"table {table!r}: column #{index} changed storage class ({detail})", table=table
        )
        self.index = index


class RejectedByServer(TransferError):
    """PostgreSQL refused a value during COPY (bad JSON, NUL, too long, overflow).

    Internal: the pipeline rolls the table back and retries with the column's strict
    client-side checks on, which find the row and handle it as the user chose.
    """

    def __init__(self, message: str, *, table: str, column: str, sqlstate: str | None) -> None:
        super().__init__(message, table=table, sqlstate=sqlstate)
        self.column = column
