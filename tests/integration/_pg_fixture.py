"""A PostgreSQL schema holding every type family and schema feature a real database has.

``build_every_type_schema(url, schema)`` creates it in one schema of an existing database,
deterministically (no ``now()``, no ``random()`` in any stored value), so a PostgreSQL ->
PostgreSQL copy can be checked value by value with ``_pg_same.assert_same_database``.

What a faithful copy is expected to **carry** (compared by ``assert_same_database``):

- column types exactly as ``format_type`` prints them: every integer width; numeric
  unconstrained (1001-digit, 16383-decimal, NaN, ±Infinity, trailing zeros kept) and
  numeric(p,s) including PG 15's negative scale and scale > precision; real / double
  (-0, NaN, ±Infinity, subnormals, extremes); money; text, varchar(n) and char(n) with
  trailing blanks, char, "char" (a non-ASCII byte), name, a ``COLLATE "C"`` column;
  bytea (empty, NUL bytes, 1 KiB); boolean; uuid; date / timestamp / timestamptz with
  ±infinity, 4713 BC, year 10000 and the maximum of each type, timestamp(3),
  timestamptz(0); time / time(2) / timetz including 24:00 and ±15:59 offsets; interval
  (months, days and microseconds kept apart; ±178000000 years; typmods); json (duplicate
  keys and whitespace kept), jsonb; xml (values only when the server has libxml);
  inet, cidr, macaddr, macaddr8; point, line, lseg, box, path, polygon, circle; bit(n),
  varbit(n), varbit; tsvector, tsquery; int4/int8/num/ts/tstz/date ranges and three
  multiranges; 1-D, 2-D and 3-D arrays with non-default lower bounds, empty arrays, NULL
  elements, quotes and backslashes, arrays of enums, domains, composites, ranges, jsonb,
  bytea...; an enum whose labels were reordered by ``ADD VALUE ... BEFORE``; domains
  with CHECK and DEFAULT; a composite nested in a composite; oid; pg_lsn; citext when the
  extension is available (see ``fixture_gaps``).
- NULL in every nullable column (the last row of each type table), NOT NULL columns,
  defaults (constant, ``now()``, ``CURRENT_DATE``, ``nextval``, an enum, an array, an
  expression), identity ALWAYS (START 100 INCREMENT 5, one row written with OVERRIDING
  SYSTEM VALUE) and BY DEFAULT, serial / bigserial, each sequence moved with ``setval``
  past the data (one with ``is_called = false``), a standalone descending CYCLE sequence
  that has been used, and one never used.
- PRIMARY KEY (single and two-column), UNIQUE, UNIQUE NULLS NOT DISTINCT, CHECK
  (column and table), a two-column FK ON DELETE CASCADE ON UPDATE CASCADE, a
  self-referencing FK ON DELETE SET NULL, a DEFERRABLE INITIALLY DEFERRED FK, a MATCH FULL
  FK, a NOT VALID CHECK and a NOT VALID FK **whose rows violate them** (a copy that
  validates them fails; one that drops them is caught).
- indexes: btree with DESC NULLS FIRST, partial, expression, unique expression, gin
  (jsonb_path_ops on jsonb, and on tsvector), gist on a range, brin with
  pages_per_range, hash, INCLUDE, an opclass (varchar_pattern_ops), a fillfactor.
- views, a view on a view, a populated materialized view with a unique index, a
  materialized view left unpopulated (WITH NO DATA).
- comments on tables, columns, views, a view column, a matview, a sequence, an index,
  a constraint, an enum and a domain.
- ``lanes``: 100 000 generated rows (bigint key with a gap, NULLs), for lane splitting.

What the neutral model cannot carry is listed in ``NOT_CARRIED``: a copy is expected to
copy these tables' rows and to **name each of these features in a warning**. Their kinds
are the ``except_`` names of ``assert_same_database`` (``NOT_CARRIED_KINDS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

SCHEMA = "every_type"
LANE_ROWS = 100_000

# (kind for assert_same_database's except_, object in the fixture, what the copy does)
NOT_CARRIED: tuple[tuple[str, str, str], ...] = (
    ("triggers", "trigger audited_touch on audited", "warned; rows copied"),
    ("functions", "function touch_updated_at() (plpgsql, the trigger's)", "warned"),
    ("row_security", "row-level security on secured + policy secured_owner", "warned; rows copied"),
    (
        "exclusion_constraints",
        "constraint bookings_no_overlap EXCLUDE USING gist",
        "warned; rows copied",
    ),
    (
        "partitioning",
        "measurements PARTITION BY RANGE (at), partitions measurements_2023/_2024",
        "warned; all rows in one measurements table",
    ),
    ("inheritance", "cars INHERITS (vehicles)", "warned; each table's own rows copied"),
    (
        "generated_columns",
        "boxes.area GENERATED ALWAYS AS (w * h) STORED",
        "warned; the stored values copied",
    ),
)
NOT_CARRIED_KINDS: frozenset[str] = frozenset(kind for kind, _, _ in NOT_CARRIED)


@dataclass(frozen=True)
class Raw:
    """A SQL expression written as is (a literal value is quoted instead)."""

    text: str


Value = str | Raw | None


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    values: Sequence[Value]
    not_null: bool = False
    extra: str = ""  # DEFAULT / COLLATE / CHECK written after the type


@dataclass(frozen=True)
class TypeTable:
    """A table of type columns: row i holds values[i % len(values)], the last row NULLs."""

    name: str
    cols: Sequence[Col]
    rows: int = 24
    extra: Sequence[str] = field(default_factory=tuple)


def _lit(v: Value) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, Raw):
        return v.text
    return "'" + v.replace("'", "''") + "'"


HUGE = "9" * 1000 + "." + "1"  # 1001 significant digits
TINY = "0." + "0" * 16382 + "1"  # numeric's largest display scale (16383)


def _numbers() -> TypeTable:
    return TypeTable(
        "numbers",
        [
            Col("i2", "smallint", ["-32768", "32767", "0", "-1"]),
            Col("i4", "integer", ["-2147483648", "2147483647", "0", "42"]),
            Col(
                "i8",
                "bigint",
                ["-9223372036854775808", "9223372036854775807", "0", "9007199254740993"],
                not_null=True,
            ),
            Col(
                "num",
                "numeric",
                [
                    "0",
                    "-0.000",
                    "1.500",
                    "NaN",
                    "Infinity",
                    "-Infinity",
                    HUGE,
                    TINY,
                    "123456789012345678901234567890.123456789012345678901234567890",
                    "-1e-20",
                ],
            ),
            Col("n10_2", "numeric(10,2)", ["12345678.90", "-0.01", "0.00", "99999999.99"]),
            Col("n38_10", "numeric(38,10)", ["1234567890123456789012345678.0123456789", "-1e-10"]),
            Col("n5_m2", "numeric(5,-2)", ["1234567", "-100", "0"]),  # PG 15: negative scale
            Col("n3_5", "numeric(3,5)", ["0.00123", "-0.00999"]),  # PG 15: scale > precision
            Col(
                "r4",
                "real",
                [
                    "-0",
                    "NaN",
                    "Infinity",
                    "-Infinity",
                    "1.4e-45",
                    "3.4028235e38",
                    "0.1",
                    "1.1754942e-38",
                    "16777217",
                ],
            ),
            Col(
                "f8",
                "double precision",
                [
                    "-0",
                    "NaN",
                    "Infinity",
                    "-Infinity",
                    "5e-324",
                    "2.2250738585072014e-308",
                    "1e-310",
                    "1.7976931348623157e308",
                    "0.30000000000000004",
                    "0.1",
                    "9007199254740993",
                ],
            ),
            Col(
                "m",
                "money",
                ["0", "-0.01", "92233720368547758.07", "-92233720368547758.08", "12.345"],
            ),
        ],
    )


def _texts(citext: bool) -> TypeTable:
    cols = [
        Col(
            "t",
            "text",
            [
                "",
                "plain",
                "tab\there\nnewline\r\\backslash",
                'quote\'s "double"',
                "zoë 🙂 ﬁ e\u0301",
                Raw("repeat('long', 2500)"),
                "  leading and trailing  ",
                "NULL",
            ],
        ),
        Col("vc", "varchar(10)", ["abc   ", "", "0123456789", "é"], not_null=True),
        Col("c5", "char(5)", ["ab", "ab   ", "", "abcde"]),
        Col("c1", "char", ["x", " "]),
        Col("qc", '"char"', ["a", "\\351", ""]),
        Col("nm", "name", ["pg_class", "n" * 63]),
        Col("cs", "text", ["B", "a", "é"], extra='COLLATE "C"'),
        Col(
            "by",
            "bytea",
            [
                "\\x",
                "\\x00",
                "\\x000102fffe",
                Raw("decode(repeat('00ff', 512), 'hex')"),
                "abc",
            ],
        ),
        Col("b", "boolean", ["true", "false"]),
        Col(
            "u",
            "uuid",
            [
                "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            ],
        ),
    ]
    if citext:
        cols.append(Col("ci", "citext", ["MiXeD", "mixed"]))
    return TypeTable("texts", cols)


def _temporal() -> TypeTable:
    return TypeTable(
        "temporal",
        [
            Col(
                "d",
                "date",
                [
                    "infinity",
                    "-infinity",
                    "4713-01-01 BC",
                    "0001-12-31 BC",
                    "0001-01-01",
                    "1582-10-15",
                    "1970-01-01",
                    "2000-02-29",
                    "9999-12-31",
                    "10000-01-01",
                    "5874897-12-31",
                ],
            ),
            Col(
                "ts",
                "timestamp",
                [
                    "infinity",
                    "-infinity",
                    "4713-01-01 00:00:00 BC",
                    "1969-12-31 23:59:59.999999",
                    "1970-01-01 00:00:00",
                    "2000-01-01 00:00:00.000001",
                    "9999-12-31 23:59:59.999999",
                    "294276-12-31 23:59:59.999999",
                ],
            ),
            Col("ts3", "timestamp(3)", ["2024-01-02 03:04:05.123", "2024-01-02 03:04:05.1235"]),
            Col(
                "tstz",
                "timestamptz",
                [
                    "infinity",
                    "-infinity",
                    "4713-01-01 00:00:00+00 BC",
                    "2024-03-31 02:30:00+02",
                    "2024-06-01 12:00:00.000001-07",
                    "294276-12-31 23:59:59.999999+00",
                    "1900-01-01 00:00:00+00",
                ],
                not_null=True,
            ),
            Col("tstz0", "timestamptz(0)", ["2024-01-01 00:00:00.5+00"]),
            Col("tm", "time", ["00:00", "23:59:59.999999", "24:00:00", "12:34:56.789"]),
            Col("tm2", "time(2)", ["12:34:56.789"]),
            Col(
                "ttz",
                "timetz",
                ["24:00:00+02", "00:00:00-15:59", "12:34:56.789012+05:30", "23:59:59.999999+15:59"],
            ),
            Col(
                "iv",
                "interval",
                [
                    "1 year 2 mons 3 days 04:05:06.789012",
                    "-1 mons +1 days",
                    "0",
                    "-00:00:00.000001",
                    "1 day -1 second",
                    "3 days 25:00:00",
                    "178000000 years",
                    "-178000000 years",
                ],
            ),
            Col("iv_ym", "interval year to month", ["1 year 2 months", "-14 months"]),
            Col("iv_ds3", "interval day to second(3)", ["1 day 00:00:01.23456"]),
        ],
    )


def _documents(xml: bool) -> TypeTable:
    return TypeTable(
        "documents",
        [
            Col(
                "js",
                "json",
                [
                    '{"a":1,"a":2}',
                    '{ "spaced" :  [1, 2 ,3] }',
                    '"str"',
                    "null",
                    "1e400",
                    '"\\u00e9\\ud83d\\ude42"',
                    "[]",
                    '{"nested":{"deep":[{"x":null}]}}',
                ],
            ),
            Col(
                "jb",
                "jsonb",
                [
                    '{"b":1,"a":[1,2.50,{"c":null}]}',
                    "null",
                    "1.000",
                    "123456789012345678901234567890.5",
                    "{}",
                    '"zoë"',
                    '[1,"two",true,null]',
                    '{"a":1,"a":2}',
                ],
                not_null=True,
            ),
            # without libxml the server refuses every xml value: the column stays, all NULL
            Col("x", "xml", ['<a b="1">text</a>', "<!-- c --><r/>"] if xml else [None]),
            Col(
                "tv",
                "tsvector",
                ["a fat cat sat on a mat", "a:1A fat:2B,4C cat:5D", "'quoted word':1", ""],
            ),
            Col("tq", "tsquery", ["fat & (rat | cat)", "!a <-> b", "a <2> b:*"]),
        ],
    )


def _net_geo_bits() -> TypeTable:
    return TypeTable(
        "net_geo_bits",
        [
            Col(
                "ip",
                "inet",
                [
                    "192.168.0.1",
                    "10.0.0.0/8",
                    "::1",
                    "2001:db8::1/64",
                    "192.168.0.1/24",
                    "::ffff:1.2.3.4",
                ],
            ),
            Col("cidr", "cidr", ["10.0.0.0/8", "2001:db8::/32", "192.168.0.0/24", "0.0.0.0/0"]),
            Col("mac", "macaddr", ["08:00:2b:01:02:03", "ff:ff:ff:ff:ff:ff"]),
            Col("mac8", "macaddr8", ["08:00:2b:01:02:03:04:05", "08:00:2b:01:02:03"]),
            Col("pt", "point", ["(1.5,-2)", "(0,0)", "(1e-300,1e300)", "(-0,NaN)"]),
            Col("ln", "line", ["{1,2,3}", "[(0,0),(1,1)]"]),
            Col("ls", "lseg", ["[(0,0),(1,1)]", "[(0.1,0.2),(-3,4)]"]),
            Col("bx", "box", ["(1,1),(0,0)", "(0,0),(1,1)"]),
            Col("pa", "path", ["[(0,0),(1,1),(2,0)]", "((0,0),(1,1),(2,0))"]),
            Col("pg", "polygon", ["((0,0),(1,1),(1,0))"]),
            Col("ci", "circle", ["<(0,0),1.5>", "<(1e-300,-1),0>"]),
            Col("b8", "bit(8)", ["10101010", "00000000"]),
            Col("vb16", "varbit(16)", ["", "1", "1010101010101010"]),
            Col("vb", "varbit", [Raw("repeat('10', 100)::varbit"), "0"]),
            Col("o", "oid", ["0", "4294967295", "1259"]),
            Col("lsn", "pg_lsn", ["0/0", "FFFFFFFF/FFFFFFFF", "16/B374D848"]),
        ],
    )


def _ranges() -> TypeTable:
    return TypeTable(
        "ranges",
        [
            Col("r4", "int4range", ["[1,10)", "empty", "(,5]", "[3,)", "(,)", "[1,1]"]),
            Col("r8", "int8range", ["[-9223372036854775808,9223372036854775807)", "empty"]),
            Col("rn", "numrange", ["[1.5,2.25]", "(,0.000001)", "empty"]),
            Col("rts", "tsrange", ["[2024-01-01,2024-02-01)", "[-infinity,infinity]"]),
            Col("rtz", "tstzrange", ["[2024-01-01 00:00+00,infinity)", "(,)"]),
            Col("rd", "daterange", ["[2024-01-01,2024-01-31]", "empty"]),
            Col("mr4", "int4multirange", ["{[1,3),[5,7)}", "{}", "{[1,2),[2,3)}"]),
            Col("mrd", "datemultirange", ["{[2024-01-01,2024-02-01),[2024-03-01,)}"]),
            Col("mrn", "nummultirange", ["{[1.5,2.5]}", "{}"]),
        ],
    )


def _arrays() -> TypeTable:
    return TypeTable(
        "arrays",
        [
            Col("a1", "integer[]", ["{1,2,3}", "{}", "{NULL}", "{1,NULL,3}", "[0:1]={1,2}"]),
            Col("a1lb", "integer[]", ["[-5:-3]={7,8,9}"]),
            Col(
                "a2",
                "integer[][]",
                ["{{1,2},{3,4}}", "[0:1][1:2]={{1,2},{3,4}}", "{{NULL,1},{2,NULL}}"],
            ),
            Col(
                "a3",
                "integer[][][]",
                ["{{{1,2},{3,4}},{{5,6},{7,8}}}", "[1:1][0:0][-1:0]={{{1,2}}}"],
            ),
            Col(
                "at",
                "text[]",
                [
                    '{"a b","with \\"quote\\"","back\\\\slash",NULL,"NULL","",",comma","{brace}"}',
                    "{}",
                    "{{a,b},{c,d}}",
                ],
            ),
            Col("ae", "mood[]", ["{sad,happy,NULL}", "{}", "{meh}"]),
            Col("an", "numeric[]", ["{1.50,NaN,-Infinity,1e-20}"]),
            Col("af", "double precision[]", ["{-0,NaN,Infinity,5e-324,0.1}"]),
            Col("ar", "real[]", ["{1.4e-45,-0}"]),
            Col("ajb", "jsonb[]", [Raw("ARRAY['{\"a\":1}'::jsonb, 'null'::jsonb, NULL]")]),
            Col("atz", "timestamptz[]", ['{"2024-01-01 00:00:00+00",infinity}']),
            Col("au", "uuid[]", ["{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"]),
            Col("aby", "bytea[]", ['{"\\\\x00ff","\\\\x"}']),
            Col("ab", "boolean[]", ["{t,f,NULL}"]),
            Col("avc", "varchar(5)[]", ['{"ab   ",x}']),
            Col(
                "acomp",
                "address[]",
                [Raw("ARRAY[ROW('Main St','12345','(1,2)','{a}')::address, NULL]")],
            ),
            Col("arng", "int4range[]", ['{"[1,2)",empty}']),
            Col("adom", "posint[]", ["{1,2}"]),
            Col("ai2", "smallint[]", ["{-32768,32767}"]),
            Col("ai8", "bigint[]", ["{9223372036854775807,-9223372036854775808}"]),
            Col("adate", "date[]", ["{2024-01-01,infinity}"]),
            Col("aiv", "interval[]", ['{"1 day","-1 mons"}']),
            Col("ainet", "inet[]", ["{10.0.0.1,::1}"]),
        ],
    )


def _user_types() -> TypeTable:
    return TypeTable(
        "user_types",
        [
            Col("mood", "mood", ["sad", "ok", "happy", "meh"], not_null=True, extra="DEFAULT 'ok'"),
            Col("mood2", "mood", ["meh", "happy"]),
            Col("pos", "posint", ["1", "2147483647"]),
            Col("email", "email_text", ["a@example.com", "Zoë@example.org"]),
            Col("price", "price", ["0.00", "12.35"]),
            Col(
                "addr",
                "address",
                [
                    Raw("ROW('1 Main St', '12345', '(1,2)', '{a,b}')"),
                    Raw("ROW(NULL, NULL, NULL, NULL)"),  # '(,,,)': not the same as NULL
                    Raw("ROW('with \"quote\", comma', '', '(0,0)', '{}')"),
                ],
            ),
            Col(
                "item",
                "line_item",
                [Raw("ROW('sku-1', 3, 9.99, ROW('2 Side St', '999', '(0,1)', '{}'))")],
            ),
        ],
    )


TYPE_SETUP = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    # added later, in the middle: its sort order is fractional (1.5), its position is second
    "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'",
    "CREATE DOMAIN posint AS integer DEFAULT 1 CONSTRAINT posint_positive CHECK (VALUE > 0)",
    "CREATE DOMAIN email_text AS text CONSTRAINT email_text_at CHECK (VALUE LIKE '%@%')",
    "CREATE DOMAIN price AS numeric(10,2) DEFAULT 0 CHECK (VALUE >= 0)",
    "CREATE TYPE address AS (street text, zip varchar(10), geo point, tags text[])",
    "CREATE TYPE line_item AS (sku text, qty posint, unit_price price, ship_to address)",
    "CREATE SEQUENCE standalone_seq AS bigint START 1000 INCREMENT BY -3 "
    "MINVALUE -100000 MAXVALUE 1000 CYCLE CACHE 1",
    "CREATE SEQUENCE fresh_seq AS integer START 7",  # never used: is_called stays false
]

KEYS = [
    """CREATE TABLE parents (
        region text NOT NULL,
        code integer NOT NULL,
        name text,
        CONSTRAINT parents_pkey PRIMARY KEY (region, code),
        CONSTRAINT parents_name_key UNIQUE NULLS NOT DISTINCT (name)
    )""",
    """CREATE TABLE children (
        id integer PRIMARY KEY,
        region text NOT NULL,
        code integer NOT NULL,
        qty integer CONSTRAINT children_qty_check CHECK (qty >= 0),
        note text,
        CONSTRAINT children_parent_fk FOREIGN KEY (region, code)
            REFERENCES parents (region, code) ON DELETE CASCADE ON UPDATE CASCADE,
        CONSTRAINT children_qty_note_check CHECK (qty < 1000 OR note IS NOT NULL)
    )""",
    """CREATE TABLE tree (
        id integer PRIMARY KEY,
        parent_id integer CONSTRAINT tree_parent_fk REFERENCES tree (id) ON DELETE SET NULL,
        label text NOT NULL
    )""",
    """CREATE TABLE deferred_refs (
        id integer PRIMARY KEY,
        tree_id integer NOT NULL,
        region text,
        code integer,
        CONSTRAINT deferred_refs_tree_fk FOREIGN KEY (tree_id) REFERENCES tree (id)
            DEFERRABLE INITIALLY DEFERRED,
        CONSTRAINT deferred_refs_parent_fk FOREIGN KEY (region, code)
            REFERENCES parents (region, code) MATCH FULL ON UPDATE RESTRICT
    )""",
    """CREATE TABLE unvalidated (
        id integer PRIMARY KEY,
        tree_id integer,
        amount integer
    )""",
    "INSERT INTO parents VALUES ('eu', 1, 'Paris'), ('eu', 2, 'Zoë''s'), ('us', 1, NULL), "
    "('us', 2, 'Austin'), ('apac', 10, 'Tokyo')",
    "INSERT INTO children SELECT g, CASE WHEN g % 3 = 0 THEN 'us' ELSE 'eu' END, 1 + g % 2, "
    "CASE WHEN g % 7 = 0 THEN 5000 ELSE g * 3 END, CASE WHEN g % 7 = 0 THEN 'bulk' END "
    "FROM generate_series(1, 30) g",
    "INSERT INTO tree VALUES (1, NULL, 'root')",
    "INSERT INTO tree SELECT g, (g - 1) / 2 + 1, 'node ' || g FROM generate_series(2, 25) g",
    "INSERT INTO deferred_refs SELECT g, 26 - g, CASE WHEN g % 2 = 0 THEN 'eu' END, "
    "CASE WHEN g % 2 = 0 THEN 2 END FROM generate_series(1, 25) g",
    # rows that break the constraints added NOT VALID below: validating them would fail
    "INSERT INTO unvalidated VALUES (1, 1, 10), (2, 999, 20), (3, 2, -5), (4, NULL, NULL)",
    "ALTER TABLE unvalidated ADD CONSTRAINT unvalidated_amount_check CHECK (amount > 0) NOT VALID",
    "ALTER TABLE unvalidated ADD CONSTRAINT unvalidated_tree_fk FOREIGN KEY (tree_id) "
    "REFERENCES tree (id) NOT VALID",
]

IDS = [
    """CREATE TABLE ident_always (
        id bigint GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 5) PRIMARY KEY,
        label text NOT NULL DEFAULT 'n/a',
        created timestamptz NOT NULL DEFAULT now(),
        ticket bigint DEFAULT nextval('standalone_seq'),
        day date DEFAULT CURRENT_DATE,
        tags integer[] DEFAULT '{}',
        score numeric DEFAULT (1 + 2),
        mood mood DEFAULT 'meh'
    )""",
    """CREATE TABLE ident_default (
        id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        v text
    )""",
    """CREATE TABLE serials (
        id serial PRIMARY KEY,
        big bigserial NOT NULL,
        v text
    )""",
    # identity and nextval defaults fill id and ticket; every other value is explicit
    "INSERT INTO ident_always (label, created, day, score) SELECT 'row ' || g, "
    "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour', date '2024-01-01' + g, g "
    "FROM generate_series(1, 20) g",
    "INSERT INTO ident_always (id, label, created, ticket, day, tags, score, mood) "
    "OVERRIDING SYSTEM VALUE VALUES (7, 'explicit', '2020-01-01 00:00:00+00', NULL, NULL, "
    "'{1,2}', NULL, NULL)",
    "SELECT setval(pg_get_serial_sequence('ident_always', 'id'), 1000)",
    "INSERT INTO ident_default (id, v) SELECT g, 'v' || g FROM generate_series(1, 20) g",
    "SELECT setval(pg_get_serial_sequence('ident_default', 'id'), 25)",
    "INSERT INTO ident_default (v) VALUES ('from the sequence')",  # id 26
    "INSERT INTO serials (v) SELECT 's' || g FROM generate_series(1, 20) g",
    "SELECT setval(pg_get_serial_sequence('serials', 'id'), 40, false)",
    "SELECT setval(pg_get_serial_sequence('serials', 'big'), 30)",
]


def _lanes(rows: int) -> list[str]:
    return [
        """CREATE TABLE lanes (
        id bigint PRIMARY KEY,
        k integer NOT NULL,
        f double precision,
        n numeric(12,4),
        t text,
        ts timestamptz,
        flag boolean
    )""",
        # ids jump by 1 000 000 after the first half, so a key-range split must not assume density
        f"""INSERT INTO lanes
        SELECT CASE WHEN g <= {rows // 2} THEN g ELSE g + 1000000 END,
               g % 97,
               CASE WHEN g % 11 = 0 THEN NULL ELSE g::double precision / 7 END,
               round(g * 1.2345, 4),
               CASE WHEN g % 13 = 0 THEN NULL ELSE md5(g::text) END,
               timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 seconds',
               CASE WHEN g % 10 = 0 THEN NULL ELSE g % 3 = 0 END
        FROM generate_series(1, {rows}) g""",
    ]


INDEXES = [
    "CREATE INDEX numbers_i4_desc_idx ON numbers (i4 DESC NULLS FIRST, i2 NULLS FIRST)",
    "CREATE INDEX texts_vc_partial_idx ON texts (vc) WHERE b",
    "CREATE INDEX texts_lower_vc_idx ON texts (lower(vc))",
    "CREATE INDEX texts_vc_pattern_idx ON texts (vc varchar_pattern_ops)",
    "CREATE INDEX texts_u_hash_idx ON texts USING hash (u)",
    "CREATE INDEX documents_jb_idx ON documents USING gin (jb jsonb_path_ops)",
    "CREATE INDEX documents_tv_idx ON documents USING gin (tv)",
    "CREATE INDEX ranges_r4_idx ON ranges USING gist (r4)",
    "CREATE INDEX lanes_ts_brin_idx ON lanes USING brin (ts) WITH (pages_per_range = 32)",
    "CREATE INDEX lanes_k_idx ON lanes (k) WITH (fillfactor = 70)",
    "CREATE INDEX children_code_incl_idx ON children (code) INCLUDE (qty, note)",
    "CREATE UNIQUE INDEX parents_lower_name_uidx ON parents (lower(name)) NULLS NOT DISTINCT",
]

VIEWS = [
    """CREATE VIEW v_children AS
        SELECT c.id, c.region, c.code, p.name, c.qty
        FROM children c JOIN parents p USING (region, code)""",
    "CREATE VIEW v_children_big AS SELECT * FROM v_children WHERE qty > 5",
    "CREATE VIEW v_numbers AS SELECT id, f8, r4, num, m FROM numbers",
    """CREATE MATERIALIZED VIEW mv_children_totals AS
        SELECT region, code, sum(qty) AS total, count(*) AS n FROM children GROUP BY region, code""",
    "CREATE UNIQUE INDEX mv_children_totals_idx ON mv_children_totals (region, code)",
    "CREATE MATERIALIZED VIEW mv_unpopulated AS SELECT id, label FROM tree WITH NO DATA",
]

COMMENTS = [
    "COMMENT ON TABLE numbers IS 'every numeric width, with the edge values'",
    "COMMENT ON COLUMN numbers.f8 IS 'doubles: -0, NaN, ±Infinity, subnormals'",
    "COMMENT ON COLUMN texts.vc IS 'trailing blanks are data: ''abc   '''",
    "COMMENT ON VIEW v_children IS 'children with their parent''s name'",
    "COMMENT ON COLUMN v_children.name IS 'from parents'",
    "COMMENT ON MATERIALIZED VIEW mv_children_totals IS 'totals per parent'",
    "COMMENT ON SEQUENCE standalone_seq IS 'counts down, cycles'",
    "COMMENT ON INDEX lanes_ts_brin_idx IS 'block ranges'",
    "COMMENT ON CONSTRAINT children_qty_note_check ON children IS 'bulk needs a note'",
    "COMMENT ON TYPE mood IS 'meh was added later, before ok'",
    "COMMENT ON DOMAIN posint IS 'strictly positive'",
]

NOT_CARRIED_DDL = [
    # a trigger and its function: created after the rows, as a restore would
    """CREATE TABLE audited (
        id integer PRIMARY KEY,
        v text,
        updated_at timestamptz NOT NULL
    )""",
    "INSERT INTO audited SELECT g, 'v' || g, timestamptz '2024-01-01 00:00:00+00' + g * "
    "interval '1 day' FROM generate_series(1, 12) g",
    """CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.updated_at := now();
        RETURN NEW;
    END
    $$""",
    "CREATE TRIGGER audited_touch BEFORE INSERT OR UPDATE ON audited "
    "FOR EACH ROW EXECUTE FUNCTION touch_updated_at()",
    # row-level security
    "CREATE TABLE secured (id integer PRIMARY KEY, owner_name text NOT NULL, v text)",
    "INSERT INTO secured SELECT g, CASE WHEN g % 2 = 0 THEN 'alice' ELSE 'bob' END, 'secret ' || g "
    "FROM generate_series(1, 10) g",
    "ALTER TABLE secured ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY secured_owner ON secured USING (owner_name = current_user)",
    # exclusion constraint (gist on a range: no btree_gist needed)
    "CREATE TABLE bookings (id integer PRIMARY KEY, room integer NOT NULL, during tsrange NOT NULL, "
    "CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&))",
    "INSERT INTO bookings SELECT g, g % 3, tsrange(timestamp '2024-01-01' + g * interval '1 day', "
    "timestamp '2024-01-01' + (g + 1) * interval '1 day') FROM generate_series(1, 10) g",
    # range partitioning, two partitions
    """CREATE TABLE measurements (
        id bigint NOT NULL,
        at date NOT NULL,
        v double precision,
        PRIMARY KEY (id, at)
    ) PARTITION BY RANGE (at)""",
    "CREATE TABLE measurements_2023 PARTITION OF measurements "
    "FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')",
    "CREATE TABLE measurements_2024 PARTITION OF measurements "
    "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "INSERT INTO measurements SELECT g, date '2023-06-01' + g * 10, g / 3.0 "
    "FROM generate_series(1, 40) g",
    # inheritance
    """CREATE TABLE vehicles (
        id integer PRIMARY KEY,
        name text NOT NULL CONSTRAINT vehicles_name_check CHECK (length(name) > 0)
    )""",
    "CREATE TABLE cars (doors integer NOT NULL DEFAULT 4) INHERITS (vehicles)",
    "ALTER TABLE cars ADD CONSTRAINT cars_pkey PRIMARY KEY (id)",
    "INSERT INTO vehicles SELECT g, 'vehicle ' || g FROM generate_series(1, 6) g",
    "INSERT INTO cars SELECT g, 'car ' || g, 2 + g % 3 FROM generate_series(101, 108) g",
    # a stored generated column
    """CREATE TABLE boxes (
        id integer PRIMARY KEY,
        w numeric NOT NULL,
        h numeric NOT NULL,
        area numeric GENERATED ALWAYS AS (w * h) STORED
    )""",
    "INSERT INTO boxes (id, w, h) SELECT g, g * 1.5, g + 0.25 FROM generate_series(1, 12) g",
]


def _server_has_xml(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    try:
        with conn.transaction():
            conn.execute("SELECT '<a/>'::xml")
        return True
    except psycopg.errors.FeatureNotSupported:  # built without libxml
        return False


def _has_extension(conn: psycopg.Connection[tuple[object, ...]], name: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_available_extensions WHERE name = %s", [name]
    ).fetchone()
    return bool(row and row[0])


def fixture_gaps(url: str) -> tuple[str, ...]:
    """What ``build_every_type_schema`` leaves out on this server, and why."""
    with psycopg.connect(url, autocommit=True) as conn:
        gaps = []
        if not _has_extension(conn, "citext"):
            gaps.append("citext: extension not available, column texts.ci left out")
        if not _server_has_xml(conn):
            gaps.append("xml: server built without libxml, documents.x holds only NULLs")
        return tuple(gaps)


def _type_table_sql(table: TypeTable) -> list[str]:
    defs = ["id integer PRIMARY KEY"]
    for c in table.cols:
        defs.append(
            " ".join(p for p in (f'"{c.name}"', c.type, c.extra, "NOT NULL" * c.not_null) if p)
        )
    create = f'CREATE TABLE "{table.name}" (\n    ' + ",\n    ".join(defs) + "\n)"
    names = ", ".join(["id"] + [f'"{c.name}"' for c in table.cols])
    rows = []
    for i in range(table.rows):
        rows.append([str(i + 1)] + [_lit(c.values[i % len(c.values)]) for c in table.cols])
    # the last row: NULL wherever NULL is allowed
    rows.append(
        [str(table.rows + 1)] + [_lit(c.values[0]) if c.not_null else "NULL" for c in table.cols]
    )
    values = ",\n".join("(" + ", ".join(r) + ")" for r in rows)
    return [create, f'INSERT INTO "{table.name}" ({names}) VALUES\n{values}', *table.extra]


def build_every_type_schema(url: str, schema: str = SCHEMA, *, lane_rows: int = LANE_ROWS) -> None:
    """Create the every-type schema ``schema`` (new, or empty) in the database at ``url``.

    ``lane_rows`` sizes the ``lanes`` table (tests that only need the types make it small).
    """
    with psycopg.connect(url, autocommit=True) as conn:
        citext = _has_extension(conn, "citext")
        xml = _server_has_xml(conn)
        if citext:
            conn.execute("CREATE EXTENSION IF NOT EXISTS citext")
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        # every object below is created unqualified, so it lands in ``schema``
        conn.execute(sql.SQL("SET search_path = {}, public").format(sql.Identifier(schema)))
        conn.execute("SET TimeZone = 'UTC'")
        statements: list[str] = [*TYPE_SETUP]
        for table in (
            _numbers(),
            _texts(citext),
            _temporal(),
            _documents(xml),
            _net_geo_bits(),
            _ranges(),
            _arrays(),
            _user_types(),
        ):
            statements += _type_table_sql(table)
        statements += KEYS + IDS + _lanes(lane_rows) + INDEXES + VIEWS + COMMENTS + NOT_CARRIED_DDL
        for statement in statements:
            try:
                # bytes: built at run time, so not a LiteralString for psycopg's typing
                conn.execute(statement.encode())
            except psycopg.Error as err:
                raise RuntimeError(f"fixture statement failed: {err}\n{statement[:2000]}") from err
        # three uses of the standalone sequence beyond the defaults above, none of fresh_seq
        conn.execute("SELECT nextval('standalone_seq') FROM generate_series(1, 3)")
        conn.execute("ANALYZE")
