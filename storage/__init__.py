"""SQLite storage: the schema, its migrations, every query (functions take a Database).

Import from the modules: :mod:`storage.records` (the SMS record and its row mapping),
:mod:`storage.claims` (claiming a send, recording Mobizon's answer), :mod:`storage.messages`
(finding SMS again), :mod:`storage.delivery` (statuses, their one writer), :mod:`storage.outbox`
(the Slack notifications owed), :mod:`storage.status`, :mod:`storage.schema`, and
:mod:`storage.store`, whose :class:`~storage.store.Store` runs them off the event loop.
"""
