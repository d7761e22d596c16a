"""The account's sentences: what Mobizon states is shown within Slack's limits."""

from __future__ import annotations

from handlers import account_words


def test_a_moderators_comment_of_any_length_is_cut() -> None:
    """A moderator's comment as long as Mobizon likes is cut, marked, in the note and the reply."""
    comment = "no " * 20_000
    note = account_words.declined_note(comment)
    reply = account_words.declined_reply(6300284, "…4321", comment)
    for said in (note, reply):
        assert len(said) < account_words.COMMENT_SHOWN + 300
        assert "…" in said
