"""What ``/sms cancel ID`` tells when the id is a send to many's Mobizon campaign.

The same outcomes as a single SMS's cancel (:mod:`handlers.account_words`), worded for a
campaign: the whole send to many is cancelled, or none of it.
"""

from __future__ import annotations

from handlers.i18n import gettext as _
from handlers.mrkdwn import escape


def cancelled(campaign_id: int) -> str:
    """Mobizon deleted the campaign: none of its SMS will be sent."""
    return _("Campaign %(id)s is cancelled: none of its SMS will be sent.") % {"id": campaign_id}


def not_yours(campaign_id: int, sender: str) -> str:
    """Someone else sent it, and the person asking may not cancel others' sends."""
    return _(
        "Only <@%(sender)s>, who sent campaign %(id)s, or a user in SMSBOT_ALLOWED_USERS "
        "may cancel it."
    ) % {"sender": sender, "id": campaign_id}


def already_cancelled(campaign_id: int, by: str) -> str:
    """It was cancelled already."""
    return _("Campaign %(id)s was already cancelled by <@%(user)s>.") % {
        "id": campaign_id,
        "user": by,
    }


def in_progress(campaign_id: int, by: str) -> str:
    """Another person's cancel of it is still at Mobizon."""
    return _(
        "Campaign %(id)s is being cancelled by <@%(user)s> right now; "
        "its message in the channel will show it."
    ) % {"id": campaign_id, "user": by}


def not_scheduled(campaign_id: int) -> str:
    """It was sent at once."""
    return _(
        "Campaign %(id)s was not scheduled: it was sent at once, so there is nothing to cancel. "
        "Only sends made with `--at` can be cancelled."
    ) % {"id": campaign_id}


def already_sent(campaign_id: int) -> str:
    """Its time has come."""
    return _("Campaign %(id)s has already been sent; it cannot be cancelled.") % {"id": campaign_id}


def too_late(campaign_id: int) -> str:
    """Within 5 minutes of its time, or Mobizon says it can no longer be deleted."""
    return _(
        "It is too late to cancel campaign %(id)s: Mobizon allows cancelling a scheduled "
        "campaign only until 5 minutes before its time."
    ) % {"id": campaign_id}


def gone(campaign_id: int) -> str:
    """Mobizon no longer knows the campaign."""
    return _("Mobizon no longer knows campaign %(id)s.") % {"id": campaign_id}


def unknown(campaign_id: int) -> str:
    """The delete's answer was lost."""
    return _(
        ":warning: I could not tell whether campaign %(id)s was cancelled: Mobizon's answer was "
        "lost. Check its message in the channel before trying again."
    ) % {"id": campaign_id}


def failed(campaign_id: int, problem: str) -> str:
    """Mobizon refused the delete for another reason."""
    return _(":warning: I could not cancel campaign %(id)s. %(problem)s") % {
        "id": campaign_id,
        "problem": escape(problem),
    }
