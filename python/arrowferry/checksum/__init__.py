"""Content checksums shared by both engines: PostgreSQL's own hash functions in numpy,
the canonical form of every column kind, and JSON as jsonb prints it.

:mod:`arrowferry.verify` is the facade; this package holds its parts.
"""
