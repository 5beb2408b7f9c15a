"""A small helpdesk as a Django app: organisations (self-referencing), agents, tags,
tickets (UUID, JSONField, DecimalField, a many-to-many, a CHECK, composite indexes) and
an audit log (DurationField -> ``interval``, GenericIPAddressField -> ``inet``).

Its migration was made by ``makemigrations`` (see :mod:`..django_project`).
"""
