"""The schema as SQLAlchemy Core tables: one definition for SQLite and PostgreSQL.

Times are UTC ISO-8601 text (:func:`storage.schema.utc_text`, to the second, or
:func:`storage.schema.utc_ms_text` in the outbox, to the millisecond): one format per column,
so a column sorts and compares as text on both engines exactly as it did on SQLite alone.
Mobizon's own times (``status_ts``, ``start_send_ts``) and ``deferred_to`` are its
``YYYY-MM-DD HH:MM:SS`` wall-clock text.

:data:`PENDING` is the one definition of "sent and its delivery still tracked": the queries,
the partial index the poller reads and :attr:`storage.records.SmsRecord.is_pending` use it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    and_,
    false,
)

metadata = MetaData()

#: A row id: 64-bit on PostgreSQL, SQLite's own rowid (INTEGER PRIMARY KEY) there.
RowId = BigInteger().with_variant(Integer(), "sqlite")

sms = Table(
    "sms",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("trigger_id", Text, nullable=False, unique=True),
    Column("team_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("response_url", Text),
    Column("recipient", Text, nullable=False),
    Column("sender", Text),
    Column("text", Text, nullable=False),
    Column("segments", Integer),
    Column("encoding", Text),
    #: the text's length as the send counted it (GSM-7 septets or UTF-16 units); none before 0012
    Column("length", Integer),
    Column("name", Text),
    Column("deferred_to", Text),
    Column("validity", Integer),
    Column("flash", Boolean(name="sms_flash_bool"), nullable=False, server_default=false()),
    Column("state", Text, nullable=False, server_default="claimed"),
    Column("error", Text),
    Column("message_id", BigInteger, unique=True),
    Column("campaign_id", BigInteger),
    Column("campaign_status", Integer),
    Column("status", Text),
    Column("status_ts", Text),
    Column("start_send_ts", Text),
    Column("slack_channel", Text),
    Column("slack_ts", Text),
    Column("created_at", Text, nullable=False),
    Column("sent_at", Text),
    Column("updated_at", Text, nullable=False),
    Column("final_at", Text),
    Column("gave_up_at", Text),
    Column("sandbox", Boolean(name="sms_sandbox_bool"), nullable=False, server_default=false()),
    Column("checked_at", Text),
    Column("cancelled_by", Text),
    Column("moderation", Text),
    Column("moderation_comment", Text),
    Column("cost", Text),
    Column("currency", Text),
    Column("cost_asks", Integer, nullable=False, server_default="0"),
    Column("cancelling_by", Text),
    Column("cancelling_at", Text),
    # a sent SMS whose Mobizon id was given to a later SMS: no status reported for it applies
    Column("detached", Boolean(name="sms_detached_bool"), nullable=False, server_default=false()),
    # whether Mobizon is asked to shorten its links (kept so a send can be made again as asked)
    Column(
        "shorten_links",
        Boolean(name="sms_shorten_links_bool"),
        nullable=False,
        server_default=false(),
    ),
    # the replica whose claim it is (it sends it), and the replica that polls its status
    Column("claimed_by", Text),
    Column("polled_by", Text),
    # when its request was about to leave for Mobizon: a claim without it never left
    Column("sending_at", Text),
    # Slack's reason the SMS could not be posted in its channel (its updates go to its sender)
    Column("post_error", Text),
    # the send to many it is one recipient of (``campaigns.id``): its channel hears of it only
    # through the campaign's one message, never by a post or reply of its own
    Column("campaign", RowId, ForeignKey("campaigns.id")),
    CheckConstraint("state IN ('claimed', 'sent', 'failed', 'unknown')", name="sms_state"),
    CheckConstraint(
        "moderation IS NULL OR moderation IN ('approved', 'declined')", name="sms_moderation"
    ),
)

#: Sent, and its delivery still tracked: no final status yet, not given up on.
PENDING = and_(sms.c.state == "sent", sms.c.final_at.is_(None), sms.c.gave_up_at.is_(None))

#: A send whose outcome Mobizon never told us, not yet settled by a lookup.
UNSETTLED = and_(
    sms.c.state.in_(("claimed", "unknown")),
    sms.c.message_id.is_(None),
    sms.c.checked_at.is_(None),
)

# Only the rows the poller still has to ask about: stays small however many SMS were sent.
Index(
    "sms_pending",
    sms.c.id,
    sqlite_where=PENDING,
    postgresql_where=PENDING,
)
Index(
    "sms_campaign",
    sms.c.campaign,
    sqlite_where=sms.c.campaign.isnot(None),
    postgresql_where=sms.c.campaign.isnot(None),
)
Index("sms_channel_latest", sms.c.team_id, sms.c.channel_id, sms.c.state, sms.c.id)
Index("sms_unsettled", sms.c.created_at, sqlite_where=UNSETTLED, postgresql_where=UNSETTLED)

#: A send to many: one Mobizon campaign, its recipients (:data:`campaign_recipients`) and, once
#: Mobizon added them, their SMS rows (``sms.campaign``). ``state`` is its life:
#: ``preview`` (waiting for its asker to confirm, until ``expires_at``), ``confirmed`` (to be
#: sent; the duplicate key taken), ``sending`` (``claimed_by`` is creating and filling the Mobizon
#: campaign ``mobizon_id``), ``sent`` (``campaign/send`` answered), ``failed`` (nothing went;
#: ``error`` says why), ``cancelled`` (its asker cancelled the preview, or ``/sms cancel``).
#: ``slack_ts`` is its one message in ``slack_channel``; ``changed_at`` is when one of its SMS
#: last changed and ``reported_at`` when the message last showed it; ``summary_ts`` the reply
#: that closed it, ``csv_due_at`` when its CSV of the recipients not reached is still owed.
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("trigger_id", Text, nullable=False, unique=True),
    Column("team_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("response_url", Text),
    Column("text", Text, nullable=False),
    Column("template", Boolean(name="campaigns_template_bool"), nullable=False),
    Column("sender", Text),
    Column("name", Text),
    Column("deferred_to", Text),
    Column("validity", Integer),
    Column("flash", Boolean(name="campaigns_flash_bool"), nullable=False, server_default=false()),
    Column(
        "shorten_links",
        Boolean(name="campaigns_shorten_links_bool"),
        nullable=False,
        server_default=false(),
    ),
    Column(
        "sandbox", Boolean(name="campaigns_sandbox_bool"), nullable=False, server_default=false()
    ),
    # where the recipients came from: a file's name, or none for a typed list
    Column("source", Text),
    # how many will receive it, how many rows were left out, and the segments over recipients
    Column("recipients", Integer, nullable=False),
    Column("left_out", Integer, nullable=False, server_default="0"),
    Column("segments_min", Integer, nullable=False),
    Column("segments_max", Integer, nullable=False),
    Column("segments_total", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("expires_at", Text),
    Column("confirmed_at", Text),
    Column("claimed_by", Text),
    Column("mobizon_id", BigInteger, unique=True),
    Column("mobizon_status", Integer),
    Column("sent_at", Text),
    Column("error", Text),
    Column("slack_channel", Text),
    Column("slack_ts", Text),
    Column("changed_at", Text),
    Column("reported_at", Text),
    Column("summary_ts", Text),
    # the unreached recipients' CSV is owed in the summary's thread: when it may next be tried
    # (a replica taking it puts this off by a lease), none once uploaded or never owed
    Column("csv_due_at", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    CheckConstraint(
        "state IN ('preview', 'confirmed', 'sending', 'sent', 'failed', 'cancelled')",
        name="campaigns_state",
    ),
)
Index("campaigns_reporting", campaigns.c.state, campaigns.c.summary_ts)

#: A campaign's recipients, in the order given: the ``row`` people see (a file's spreadsheet
#: row, a list's position), the number in international digits, its text with placeholders
#: filled and their values (JSON, for a template campaign). ``code`` is Mobizon's answer for
#: the row once added (0: added, its SMS is ``sms_id``; else why not), none before.
campaign_recipients = Table(
    "campaign_recipients",
    metadata,
    Column("campaign", RowId, ForeignKey("campaigns.id"), primary_key=True),
    Column("row", Integer, primary_key=True),
    Column("number", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("segments", Integer, nullable=False),
    Column("placeholder_values", Text),
    Column("code", Integer),
    Column("sms_id", RowId, ForeignKey("sms.id")),
)

status_history = Table(
    "status_history",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("message_id", BigInteger, ForeignKey("sms.message_id"), nullable=False),
    Column("status", Text, nullable=False),
    Column("status_ts", Text),
    Column("source", Text, nullable=False),
    Column("recorded_at", Text, nullable=False),
    CheckConstraint(
        "source IN ('webhook', 'poll', 'command', 'giveup')", name="status_history_source"
    ),
)
Index("status_history_message", status_history.c.message_id, status_history.c.id)

#: What an SMS's channel is owed (``kind``, :class:`storage.outbox.NotificationKind`): its first
#: post, a status Mobizon reported, its cost, a moderator's decline, or "no final status in
#: time". Only a ``status`` row has a status, Mobizon's; a ``post`` row's note says why it is late.
outbox = Table(
    "outbox",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("message_id", BigInteger, ForeignKey("sms.message_id"), nullable=False),
    Column("status", Text),
    Column("kind", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Text, nullable=False),
    Column("update_done", Boolean(name="outbox_update_done_bool"), nullable=False),
    Column("reply_done", Boolean(name="outbox_reply_done_bool"), nullable=False),
    Column("last_error", Text),
    # what a ``post`` row says under the SMS (why it comes late), as a key the notifier words
    Column("note", Text),
    # one row per (SMS, status) waits; a row of another kind is once per SMS (the index below)
    UniqueConstraint("message_id", "status", name="outbox_message_status"),
    CheckConstraint("kind IN ('post', 'status', 'cost', 'declined', 'giveup')", name="outbox_kind"),
    CheckConstraint("(kind = 'status') = (status IS NOT NULL)", name="outbox_status_of_kind"),
)
#: The row of each kind other than ``status`` is written once per SMS while it waits.
OUTBOX_ONCE = outbox.c.status.is_(None)
Index(
    "outbox_message_kind",
    outbox.c.message_id,
    outbox.c.kind,
    unique=True,
    sqlite_where=OUTBOX_ONCE,
    postgresql_where=OUTBOX_ONCE,
)
Index("outbox_due", outbox.c.next_attempt_at, outbox.c.id)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("received_at", Text, nullable=False),
)
Index("webhook_events_received", webhook_events.c.received_at)

account_state = Table(
    "account_state",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

templates = Table(
    "templates",
    metadata,
    Column("team_id", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("text", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

#: The numbers that asked not to get SMS (the opt-out list): every send to one is refused. A
#: number is international digits without ``+``, as ``sms.recipient``; who added it, and when.
optouts = Table(
    "optouts",
    metadata,
    Column("recipient", Text, primary_key=True),
    Column("added_by", Text, nullable=False),
    Column("added_at", Text, nullable=False),
)

#: Each running smsbot process and when it last said it is alive: a replica whose heartbeat is
#: older than the lease is gone, and its claims (sends, polling) are taken over.
replicas = Table(
    "replicas",
    metadata,
    Column("id", Text, primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("heartbeat_at", Text, nullable=False),
)

#: Which replica posts a notification channel's outbox rows: one at a time, so Slack's pace for
#: the channel holds however many replicas run. Kept while the owner's heartbeat holds.
channel_owners = Table(
    "channel_owners",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("replica", Text, nullable=False),
    Column("since", Text, nullable=False),
)
