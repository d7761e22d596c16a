"""Undoing Slack's escaping of typed command text."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.grammar.slack_input import (
    MARKUP,
    _undo_markup,
    unescape_entities,
    unescape_slack_input,
)
from handlers.mrkdwn import escape, unmarked, verbatim


@pytest.mark.parametrize(
    ("escaped", "plain"),
    [
        ("a &amp; b", "a & b"),
        ("&lt;b&gt;", "<b>"),
        ("&amp;lt;", "&lt;"),
        ("<tel:+5511987654321|+55 11 98765-4321>", "+55 11 98765-4321"),
        ("<tel:+5511987654321>", "+5511987654321"),
        ("<mailto:a@b.co|a@b.co>", "a@b.co"),
        ("<mailto:a@b.co>", "a@b.co"),
        ("<https://x.co/?a=1&amp;b=2>", "https://x.co/?a=1&b=2"),
        ("<http://x.co|x.co>", "x.co"),
        ("<@U123|ana>", "@ana"),
        ("<@U123>", "@U123"),
        ("<#C123|general>", "#general"),
        ("<!here>", "@here"),
        ("<!subteam^S1|@team>", "@team"),
        ("no markup", "no markup"),
    ],
)
def test_unescape_slack_input(escaped: str, plain: str) -> None:
    """Slack's entity escapes and link/mention markup become readable text."""
    assert unescape_slack_input(escaped) == plain


def test_mrkdwn_escape_is_undone_by_unescaping_input() -> None:
    """mrkdwn.escape (what Slack does to typed text) is undone by unescape_slack_input."""
    text = "a & b <c> &amp; <tel:1|2>"
    assert unescape_slack_input(escape(text)) == text


@pytest.mark.parametrize("typed", ["boas_vindas", "*Big* _sale_ > ~now~ `x` :rage: & <3"])
def test_text_copied_from_a_message_reads_as_typed(typed: str) -> None:
    """Outside text copied from one of smsbot's messages and typed back carries none of its marks."""
    copied = html.unescape(verbatim(typed))  # what a person copies from what Slack shows
    assert copied != typed
    assert unescape_slack_input(escape(copied)) == typed


def test_a_soft_hyphen_someone_typed_is_kept() -> None:
    """Only the marks smsbot puts in are dropped: a soft hyphen typed elsewhere stays."""
    assert unescape_slack_input("co\u00adpy \u00ad") == "co\u00adpy \u00ad"


#: Texts made of Slack's markup and entities, smsbot's marks and plain characters.
PIECES = st.sampled_from(
    ["a", " ", "<", ">", "|", "&", "amp;", "lt;", "\u00ad", "_", "@", "tel:", "é"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=20).map("".join))
def test_text_with_nothing_to_undo_is_returned_as_it_came(text: str) -> None:
    """The short way for text with no markup, entity or mark reads as the whole reading does."""
    whole = unescape_entities(MARKUP.sub(_undo_markup, unmarked(text)))
    assert unescape_slack_input(text) == whole
