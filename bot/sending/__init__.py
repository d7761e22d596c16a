"""The domain: what an SMS to send is, where it came from, and the one service that sends it.

It knows nothing of Slack: surfaces parse their input into an
:class:`~bot.mobizon.OutgoingSms` and an :class:`~bot.sending.types.Origin`, call
:class:`~bot.sending.service.SendService`, and render the :mod:`~bot.sending.outcomes` value they
get back.
"""
