"""PostgreSQL views into SQLite, on a sample built like the usual PostgreSQL sample
databases (pagila's own ``group_concat`` aggregate, functions, an enum, a domain, a
materialized view): every view created in SQLite returns, as a multiset of rows, what
it returns in PostgreSQL; every other one is named in a warning with its reason.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import arrowferry as af
from tests.conftest import sql
from tests.integration._cli_helpers import cli
from tests.integration._compare import multiset_difference, pg_view_rows, sqlite_view_rows

SAMPLE = """
CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
CREATE DOMAIN year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155);
CREATE FUNCTION _group_concat(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2 ELSE $1 || ', ' || $2 END $$;
CREATE AGGREGATE group_concat(text) (SFUNC = _group_concat, STYPE = text);
CREATE FUNCTION slugify(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT lower(replace($1, ' ', '-')) $$;
CREATE DOMAIN slug_text AS text CHECK (slugify(VALUE) = VALUE);
CREATE DOMAIN short_slug AS slug_text DEFAULT slugify('Some Film') CHECK (length(VALUE) < 40);
CREATE TABLE actor (actor_id serial PRIMARY KEY, first_name text NOT NULL,
  last_name text NOT NULL CHECK (slugify(last_name) <> ''));
CREATE TABLE category (category_id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE film (film_id serial PRIMARY KEY, title text NOT NULL, release_year year,
  rating mpaa_rating DEFAULT 'G', rental_rate numeric(4,2) NOT NULL DEFAULT 4.99,
  slug text DEFAULT slugify('untitled film'), handle short_slug, length smallint);
CREATE INDEX film_slug ON film (slugify(title));
CREATE TABLE film_actor (actor_id int REFERENCES actor, film_id int REFERENCES film,
  PRIMARY KEY (actor_id, film_id));
CREATE TABLE film_category (film_id int PRIMARY KEY REFERENCES film,
  category_id int REFERENCES category);
CREATE TABLE payment (payment_id serial PRIMARY KEY, film_id int REFERENCES film,
  amount numeric(5,2) NOT NULL, payment_date timestamptz NOT NULL);
CREATE FUNCTION payments_of(p_film integer) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT count(*) FROM payment WHERE film_id = $1 $$;
INSERT INTO actor (first_name, last_name)
  SELECT 'First' || g, 'Last' || (g % 7) FROM generate_series(1, 12) g;
INSERT INTO category (name) VALUES ('Action'), ('Comedy'), ('Drama'), ('Horror');
INSERT INTO film (title, release_year, rating, rental_rate, length)
  SELECT 'Film ' || g, 1995 + g % 20, (ARRAY['G','PG','PG-13','R','NC-17'])[1 + g % 5]::mpaa_rating,
         0.99 + (g % 3) * 2, 60 + g FROM generate_series(1, 20) g;
INSERT INTO film_actor SELECT 1 + (g % 12), 1 + (g * 7 % 20) FROM generate_series(1, 40) g
  ON CONFLICT DO NOTHING;
INSERT INTO film_category SELECT g, 1 + g % 4 FROM generate_series(1, 20) g;
INSERT INTO payment (film_id, amount, payment_date)
  SELECT 1 + g % 20, ((g * 7919) % 999 + 1) / 100.0,
         '2022-01-01 00:00:00+00'::timestamptz + g * interval '37 minutes'
  FROM generate_series(1, 3000) g;
CREATE MATERIALIZED VIEW rental_by_category AS
  SELECT c.name AS category, sum(p.amount) AS total_sales
  FROM payment p JOIN film_category fc ON fc.film_id = p.film_id
  JOIN category c ON c.category_id = fc.category_id GROUP BY c.name;
CREATE UNIQUE INDEX rental_category ON rental_by_category (category);
CREATE MATERIALIZED VIEW never_filled AS SELECT actor_id FROM actor WITH NO DATA;
"""

KEPT = {
    # sum of a numeric(5,2): 33726.77 in PostgreSQL must not become 33726.7700000051
    "sales_by_category": "SELECT c.name AS category, sum(p.amount) AS total_sales "
    "FROM payment p JOIN film_category fc ON fc.film_id = p.film_id "
    "JOIN category c ON c.category_id = fc.category_id GROUP BY c.name",
    "sales_by_film": "SELECT film_id, sum(amount) AS total, count(*) AS n, min(amount) AS low, "
    "max(amount) AS high, sum(DISTINCT amount) AS kinds FROM payment GROUP BY film_id",
    "running": "SELECT payment_id, sum(amount) OVER (PARTITION BY film_id ORDER BY payment_id) "
    "AS so_far FROM payment",
    "by_rating": "SELECT rating, count(*) AS n FROM film WHERE length > 70 GROUP BY rating",
    # an enum compared with a label ('PG'::mpaa_rating): the label's text in SQLite
    "rated_pg": "SELECT title, rating FROM film WHERE rating = 'PG' OR rating <> 'G'",
    "rated_some": "SELECT title FROM film WHERE rating IN ('PG', 'NC-17')",
    "recent_films": "SELECT title, release_year, rental_rate FROM film WHERE release_year > 2005",
    "catalogue": "SELECT f.title, c.name, count(a.last_name) AS actors FROM film f "
    "JOIN film_category fc ON fc.film_id = f.film_id "
    "JOIN category c ON c.category_id = fc.category_id "
    "JOIN film_actor fa ON fa.film_id = f.film_id JOIN actor a ON a.actor_id = fa.actor_id "
    "GROUP BY f.title, c.name",
    # PostgreSQL's string_agg joins with the separator given: SQLite's group_concat too
    # (each group repeats one name: the order inside a group cannot matter)
    "surnames": "SELECT last_name, string_agg(last_name, ', ') AS names FROM actor "
    "GROUP BY last_name",
    "big_categories": "SELECT category FROM sales_by_category WHERE total_sales > 1000",
    # concat ignores NULLs in both; SQLite's own concat() is 3.44+, || is not
    "labels": "SELECT film_id, concat(title, ' (', release_year, ')') AS label, "
    "concat(NULL::text, title, NULL::text) AS plain FROM film",
    "paid_at": "SELECT payment_id, payment_date FROM payment WHERE payment_id <= 50",
}
INEXACT = {
    "average_by_film": "SELECT film_id, avg(amount) AS mean FROM payment GROUP BY film_id",
    "with_tax": "SELECT payment_id, amount * 1.2 AS gross FROM payment",
}
REFUSED = {
    # the sample's own aggregate: SQLite's group_concat joins with ',' instead of ', '
    "actor_info": (
        "SELECT a.actor_id, group_concat(f.title ORDER BY f.title) AS films FROM actor a "
        "JOIN film_actor fa ON fa.actor_id = a.actor_id JOIN film f ON f.film_id = fa.film_id "
        "GROUP BY a.actor_id",
        "public.group_concat",
    ),
    # the same without ORDER BY (SQLite would run it, joining with ','): 'Last3, Last3'
    "namesakes": (
        "SELECT last_name, group_concat(last_name) AS names FROM actor GROUP BY last_name",
        "public.group_concat",
    ),
    "in_demand": ("SELECT film_id, payments_of(film_id) AS n FROM film", "public.payments_of"),
    "slugs": ("SELECT film_id, slugify(title) AS s FROM film", "public.slugify"),
    # PostgreSQL's own md5 has no SQLite function: the view fails when SQLite first runs it
    "digests": ("SELECT film_id, md5(title) AS d FROM film", "md5"),
    # SQLite before 3.44 could not even open the file
    "cast_lists": (
        "SELECT f.title, string_agg(a.last_name, ', ' ORDER BY a.last_name) AS cast_list "
        "FROM film f JOIN film_actor fa ON fa.film_id = f.film_id "
        "JOIN actor a ON a.actor_id = fa.actor_id GROUP BY f.title",
        "ORDER BY inside an aggregate",
    ),
    # PostgreSQL orders an enum as declared ('PG' < 'PG-13' < 'R' < 'NC-17'), SQLite its text
    "above_pg": ("SELECT title FROM film WHERE rating > 'PG'", "orders an enum"),
    "last_rating": ("SELECT max(rating) AS r FROM film", "orders an enum"),  # NC-17, not R
    "distinct_names": (
        "SELECT string_agg(DISTINCT last_name, ', ') AS names FROM actor",
        "DISTINCT aggregates",
    ),
    # PostgreSQL prints 4.99 as '4.99' but 0.90 as '0.90' and true as 't' or 'true'
    "price_tags": ("SELECT film_id, '$' || rental_rate AS tag FROM film", "text of a decimal"),
    "is_long": (
        "SELECT film_id, concat(title, ': ', length > 70) AS s FROM film",
        "text of a boolean",
    ),
    # reads a view that is not created
    "on_actor_info": ("SELECT actor_id FROM actor_info", "actor_info"),
}


@pytest.fixture
def sample(pg_url: str) -> str:
    conn_sql = SAMPLE
    for statement in _statements(conn_sql):
        sql(pg_url, statement)
    for name, body in {**KEPT, **INEXACT, **{k: v for k, (v, _) in REFUSED.items()}}.items():
        sql(pg_url, f"CREATE VIEW {name} AS {body}")
    return pg_url


def _statements(script: str) -> list[str]:
    """The script's statements (split at ';' outside $$ bodies)."""
    out, current, quoted = [], "", False
    for part in script.split("$$"):
        if quoted:
            current += "$$" + part + "$$"
        else:
            pieces = part.split(";")
            current += pieces[0]
            for piece in pieces[1:]:
                out.append(current)
                current = piece
        quoted = not quoted
    out.append(current)
    return [s.strip() for s in out if s.strip()]


def _sqlite_views(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    finally:
        conn.close()


def test_sample_views_return_in_sqlite_what_they_return_in_postgresql(
    sample: str, tmp_path: Path
) -> None:
    out = tmp_path / "sample.db"
    result = af.migrate(sample, out)
    assert result.success, result.to_dict()["errors"]
    created = _sqlite_views(out)
    for name in sorted(created - set(INEXACT)):  # whatever was created returns the same rows
        want, got = pg_view_rows(sample, name), sqlite_view_rows(out, name)
        assert len(want) > 0, name
        assert not multiset_difference(want, got), (name, multiset_difference(want, got))
    assert created == set(KEPT) | set(INEXACT), result.warnings
    for name, (_, called) in REFUSED.items():
        assert any(
            f"view {name!r} not created" in w and called.lower() in w.lower()
            for w in result.warnings
        ), (
            name,
            result.warnings,
        )
    # PostgreSQL's exact numeric against SQLite's doubles: said, in a warning and the ledger
    ledger = {e["table"]: e for e in result.ledger if e.get("kind") == "view"}
    assert set(ledger) == set(INEXACT), result.ledger
    for name in INEXACT:
        assert any(f"view {name!r}" in w and "floating point" in w for w in result.warnings)
        assert ledger[name]["lossy"], ledger[name]
    assert not [w for w in result.warnings if any(f"'{k}'" in w for k in KEPT)], result.warnings


def test_the_sum_of_a_fixed_scale_column_is_exact(sample: str, tmp_path: Path) -> None:
    """Adding the REALs one by one (as SQLite before 3.43 does) differs from PostgreSQL's
    sum in the last digits (the data is chosen so); the translated view gives the double
    nearest PostgreSQL's sum, whichever SQLite runs it."""
    out = tmp_path / "sample.db"
    af.migrate(sample, out)
    conn = sqlite3.connect(out)
    try:
        got = dict(conn.execute("SELECT film_id, total FROM sales_by_film"))
        naive: dict[int, float] = {}
        for film, amount in conn.execute("SELECT film_id, amount FROM payment ORDER BY 1, rowid"):
            naive[film] = naive.get(film, 0.0) + amount
    finally:
        conn.close()
    want = {r[0]: r[1] for r in pg_view_rows(sample, "sales_by_film")}
    assert {k: float(v) for k, v in want.items()} == got
    assert any(float(want[k]) != naive[k] for k in want), "the data shows no rounding"


def test_user_functions_in_checks_defaults_and_indexes_are_named(
    sample: str, tmp_path: Path
) -> None:
    result = af.migrate(sample, tmp_path / "sample.db", create_views=False)
    assert result.success, result.to_dict()["errors"]
    for what in (
        "CHECK 'actor_last_name_check'",
        "default of film.slug",
        "index 'film_slug'",
        # a domain's default, and its base domain's CHECK
        "default of film.handle",
        "CHECK 'handle_slug_text_check'",
    ):
        assert any(w.startswith(what) and "public.slugify" in w for w in result.warnings), (
            what,
            result.warnings,
        )
    conn = sqlite3.connect(tmp_path / "sample.db")
    try:  # the domain's own CHECK, which calls only PostgreSQL's length, is kept
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(
                "INSERT INTO film (film_id, title, handle) VALUES (99, 'x', ?)", ["y" * 50]
            )
    finally:
        conn.close()


def test_materialized_views_are_named_or_materialized(sample: str, tmp_path: Path) -> None:
    plain = af.migrate(sample, tmp_path / "plain.db", create_views=False)
    for name in ("rental_by_category", "never_filled"):
        assert any(
            f"materialized view {name!r} not migrated" in w and "--materialize-views" in w
            for w in plain.warnings
        ), plain.warnings
    assert "rental_by_category" not in {t.name for t in plain.tables}

    out = tmp_path / "held.db"
    run = cli("migrate", sample, str(out), "--materialize-views", "--no-views", "--json")
    assert run.exit_code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert any("'rental_by_category' is created as a table" in w for w in payload["warnings"]), (
        payload["warnings"]
    )
    assert any("'never_filled'" in w and "populated" in w for w in payload["warnings"])
    want = pg_view_rows(sample, "rental_by_category")
    got = sqlite_view_rows(out, "rental_by_category")
    assert len(want) == 4 and not multiset_difference(want, got), multiset_difference(want, got)
    conn = sqlite3.connect(out)
    try:
        kinds = {r[0]: r[1] for r in conn.execute("SELECT name, type FROM sqlite_master")}
    finally:
        conn.close()
    assert kinds["rental_by_category"] == "table" and kinds["rental_category"] == "index"


CHINOOK_VIEWS = {
    # Invoice.Total is numeric(10,2): its sum is exact in SQLite too
    "country_sales": 'SELECT "BillingCountry", sum("Total") AS total, count(*) AS invoices '
    'FROM "Invoice" GROUP BY "BillingCountry"',
    "track_listing": 'SELECT t."Name" AS track, a."Title", ar."Name" AS artist, t."Milliseconds" '
    'FROM "Track" t JOIN "Album" a ON a."AlbumId" = t."AlbumId" '
    'JOIN "Artist" ar ON ar."ArtistId" = a."ArtistId" WHERE t."Name" LIKE \'A%\'',
    "usa_customers": 'SELECT "CustomerId", "FirstName" || \' \' || "LastName" AS name '
    'FROM "Customer" WHERE "Country" ILIKE \'usa\'',
    "recent_invoices": 'SELECT "InvoiceId", "InvoiceDate", "Total" FROM "Invoice" '
    "WHERE \"InvoiceDate\" >= '2013-06-01'",
    "genre_sizes": 'SELECT g."Name", count(*) AS tracks, sum(t."UnitPrice") AS price_total, '
    'max(t."Bytes") AS largest FROM "Track" t JOIN "Genre" g ON g."GenreId" = t."GenreId" '
    'GROUP BY g."Name"',
}


def _round_trip_views(sqlite_source: Path, pg_url: str, out: Path) -> af.MigrationResult:
    """The corpus file into PostgreSQL, and PostgreSQL (with its views) back into SQLite:
    every view created there returns PostgreSQL's rows; every other one is named."""
    assert af.migrate(sqlite_source, pg_url).success
    for name, body in CHINOOK_VIEWS.items() if "chinook" in sqlite_source.name else ():
        sql(pg_url, f"CREATE VIEW {name} AS {body}")
    result = af.migrate(pg_url, out)
    assert result.success, result.to_dict()["errors"]
    views = [r[0] for r in sql(pg_url, "SELECT viewname FROM pg_views WHERE schemaname = 'public'")]
    created = _sqlite_views(out)
    for name in views:
        if name not in created:
            assert any(f"view {name!r}" in w for w in result.warnings), (name, result.warnings)
            continue
        want, got = pg_view_rows(pg_url, name), sqlite_view_rows(out, name)
        assert not multiset_difference(want, got), (name, multiset_difference(want, got))
    return result


def test_chinook_views_return_in_sqlite_what_they_return_in_postgresql(
    chinook: Path, pg_url: str, tmp_path: Path
) -> None:
    result = _round_trip_views(chinook, pg_url, tmp_path / "back.db")
    assert _sqlite_views(tmp_path / "back.db") == set(CHINOOK_VIEWS), result.warnings
    for name in CHINOOK_VIEWS:  # none of them is compared empty
        assert sqlite_view_rows(tmp_path / "back.db", name), name


def test_northwind_views_come_back_with_their_rows(
    northwind: Path, pg_url: str, tmp_path: Path
) -> None:
    """Northwind's views, translated into PostgreSQL and back into SQLite."""
    result = _round_trip_views(northwind, pg_url, tmp_path / "back.db")
    back = _sqlite_views(tmp_path / "back.db")
    assert len(back) == 16 and not [w for w in result.warnings if "view" in w], result.warnings
