"""The domain: the SMS to send, where it came from, its send service, and the other services.

The other services are those listeners call besides sending: cancel, lookups, balance, templates.

It knows nothing of Slack: surfaces parse their input into an
:class:`~bot.mobizon.OutgoingSms` and an :class:`~bot.sms.sending.types.Origin`, call
:class:`~bot.sms.sending.service.SendService`, and render the :mod:`~bot.sms.sending.outcomes`
value they
get back; the other commands call :mod:`~bot.sms.sending.account`'s services and render their values
the same way. No surface holds the gateway.
"""
