"""The Mobizon gateway; it imports nothing else of smsbot's.

Import from the modules: :mod:`~bot.mobizon.types` (the SMS to send and the typed answers),
:mod:`~bot.mobizon.client`, :mod:`~bot.mobizon.errors`, :mod:`~bot.mobizon.gateway` (the
Protocol its users depend on), :mod:`~bot.mobizon.wire` and :mod:`~bot.mobizon.redact`.
"""
