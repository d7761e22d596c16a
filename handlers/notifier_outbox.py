"""Which outbox rows the notifier takes: the channels this process posts to, superseded edits.

Part of the notifier (:mod:`handlers.notifier`), which works the outbox through these steps: the
one place in ``handlers`` that writes storage itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

from handlers import notifier_posts
from storage import outbox, replicas
from storage.store import Store


async def due_channels(
    store: Store,
    now: datetime,
    replica: str | None,
    lease: timedelta = replicas.LEASE,
    on_taken: Callable[[datetime], None] | None = None,
) -> list[str]:
    """The channels with due rows this process posts to.

    All of them; with ``replica``, those it owns (one replica per channel, so Slack's pace for
    a channel holds however many replicas run), and about its share of those no live replica
    owns, a dead one's included (``lease``). Channels it owns that have nothing due are let go.
    ``on_taken`` is told ``now`` when a channel becomes this replica's from a replica that is
    gone: that one may have posted a row just before it died, without recording it. A channel
    taken from no owner (never owned, or let go when it had nothing due) holds no such row.
    """
    channels = await store.read(outbox.due_channels, now=now)
    if replica is None:
        return channels
    cutoff = replicas.lease_cutoff(now, lease)
    share = await store.read(outbox.channel_share, channels, replica=replica, live_cutoff=cutoff)
    if share.settled:  # nothing to take or let go of: nothing to write
        return [channel for channel in channels if channel in share.mine]
    mine = await store.write(
        outbox.own_channels, channels, replica=replica, live_cutoff=cutoff, now=now
    )
    if on_taken is not None and share.orphaned.intersection(mine).difference(share.mine):
        on_taken(now)
    return mine


#: The kinds whose edit shows the SMS whole as it is now: a later one makes an earlier one's moot.
_SUPERSEDING = frozenset(
    {
        outbox.NotificationKind.STATUS,
        outbox.NotificationKind.DECLINED,
        outbox.NotificationKind.GIVEUP,
    }
)


async def settle_superseded(
    store: Store, due: list[outbox.Notification]
) -> tuple[list[outbox.Notification], int]:
    """Skip the ``chat.update`` of rows a later row of the same SMS will redo.

    Every update shows the SMS as it is now, so only the newest row's update is needed.
    A superseded row that owes no thread reply leaves the outbox without a Slack call;
    the newest row, which carries the same update, stays until Slack accepts it.
    Returns the rows still to deliver and how many left the outbox.
    """
    # a cost's edit never supersedes another row's: that row's own edit must be tried first
    newest = {note.message_id: note.id for note in due if note.kind in _SUPERSEDING}
    kept: list[outbox.Notification] = []
    done = 0
    for row in due:
        note = row
        if note.kind is outbox.NotificationKind.POST:
            kept.append(note)  # the SMS's first post: every later row edits what it posts
            continue
        if note.id != newest.get(note.message_id, note.id) and not note.update_done:
            await store.write(outbox.mark_step_done, note.id, "update")
            note = dataclasses.replace(note, update_done=True)
            if not notifier_posts.reply_owed(note):
                await store.write(outbox.finish_notification, note.id)
                done += 1
                continue
        kept.append(note)
    return kept, done
