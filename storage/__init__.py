"""SQLite storage: the schema, its migrations, every query (functions take a Database).

Import from the modules: :mod:`storage.messages` (sends), :mod:`storage.delivery` (statuses and
the outbox), :mod:`storage.status`, :mod:`storage.schema`, and :mod:`storage.store`, whose
:class:`~storage.store.Store` runs them off the event loop.
"""
