"""Small applications written the way their ORMs' users write them, for the data-only
cut-over tests (issue 14 item 5, ``tests/integration/test_orm_cutover.py``).

* :mod:`.shop`: SQLAlchemy 2 declarative (``Mapped[...]``), both schemas by
  ``metadata.create_all``; the PostgreSQL side has an ``updated_at`` the SQLite side
  lacks and its columns in another order (``sort_order``).
* :mod:`.blog`: SQLAlchemy 2 declarative for the SQLite side, an Alembic migration
  (``blog_migrations/``) for the PostgreSQL side (identity columns, a UUID made by
  ``gen_random_uuid()``, an enum with a server default).
* :mod:`.helpdesk`: a Django app (models, a migration made by ``makemigrations``),
  settings configured in code (:mod:`.django_project`), ``migrate`` run with
  ``call_command`` against a SQLite file and a PostgreSQL schema.

:mod:`.values` turns what an ORM hands back into comparable values (its time-zone
convention, Decimal, UUID, JSON numbers) and lists differences object by object;
:mod:`.catalog` snapshots what a data-only run must leave alone in PostgreSQL (columns,
defaults, indexes, constraints, enum labels) and checks the sequences.
"""
