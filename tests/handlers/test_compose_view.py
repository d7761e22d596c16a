"""The compose modal's pure parts: its metadata, the live count, and updates that keep inputs."""

from __future__ import annotations

from datetime import UTC

import pytest

from handlers.views.compose import (
    ComposeMeta,
    compose_view,
    count_text,
    text_block_id,
    with_count,
    with_template,
)


def test_metadata_round_trip_and_garbage() -> None:
    """The channel and surface come back as sent; unreadable metadata names no channel."""
    meta = ComposeMeta("C1", "message_shortcut")
    assert ComposeMeta.load(meta.dump()) == meta
    assert ComposeMeta.load("not json") == ComposeMeta(None)
    assert ComposeMeta.load('["C1"]') == ComposeMeta(None)
    assert ComposeMeta.load('{"channel": 5}') == ComposeMeta(None)
    forged = '{"channel": "C1 5511987654321\\nFAKE", "surface": "anything"}'
    assert ComposeMeta.load(forged) == ComposeMeta(None, "modal")


@pytest.mark.parametrize(
    ("segments", "warned", "over"),
    [(1, False, False), (7, False, False), (8, True, False), (10, True, False), (11, False, True)],
)
def test_count_warns_before_the_limit(segments: int, warned: bool, over: bool) -> None:
    """The count warns from 8 segments and says when the text is over the limit of 10."""
    text = "a" * (153 * segments if segments > 1 else 10)
    shown = count_text(text)
    assert f"{segments} SMS segment" in shown
    assert (":warning:" in shown) is warned
    assert (":no_entry:" in shown) is over


def test_an_update_changes_only_the_count() -> None:
    """with_count replaces the count block and keeps every other block, ids and all."""
    view = compose_view(meta=ComposeMeta("C1"), zone=UTC, sender_names=["A"]).to_dict()
    view |= {"id": "V1", "hash": "h1", "state": {"values": {}}}
    updated = with_count(view, "hello")
    assert "id" not in updated
    assert "hash" not in updated
    assert "state" not in updated
    for before, after in zip(view["blocks"], updated["blocks"], strict=True):
        if before["block_id"] == "sms_count":
            assert "5 characters" in after["elements"][0]["text"]
        else:
            assert after == before
    assert updated["private_metadata"] == view["private_metadata"]


def test_the_text_block_id_follows_a_chosen_template() -> None:
    """The message block's id is found in a fresh modal and after a template renamed it."""
    view = compose_view(meta=ComposeMeta("C1"), zone=UTC, sender_names=["A"]).to_dict()
    assert text_block_id(view) == "sms_text"
    chosen = with_template(view, "Hi {name}")
    assert text_block_id(chosen) == "sms_text~1"
    assert text_block_id(with_template(chosen, "Bye")) == "sms_text~2"
    assert text_block_id({"state": {"values": {"sms_text~3": {}}}}) == "sms_text~3"


def _ids(view: dict[str, object]) -> list[str]:
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    return [str(b["block_id"]) for b in blocks]


def test_the_choice_without_accents_comes_and_goes_with_the_text() -> None:
    """Accented text adds the checkbox right after the count; plain or emoji text takes it away."""
    view = compose_view(meta=ComposeMeta("C1"), zone=UTC, sender_names=["A"]).to_dict()
    assert "sms_gsm" not in _ids(view)
    accented = with_count(view, "Promoção de verão")
    ids = _ids(accented)
    assert ids[ids.index("sms_count") + 1] == "sms_gsm"
    assert "Without accents: GSM-7 · 17 characters · 1 SMS segment" in count_text(
        "Promoção de verão"
    )
    again = with_count(accented, "Promoção de verão!")
    assert _ids(again).count("sms_gsm") == 1
    assert "sms_gsm" not in _ids(with_count(accented, "Plain, café"))
    assert "sms_gsm" not in _ids(with_count(accented, "Promoção \U0001f600"))
    assert "Without accents" not in count_text("Promoção \U0001f600")


def test_a_shortcut_or_template_with_accents_offers_the_choice() -> None:
    """A modal opened with accented text, or filled from such a template, offers it at once."""
    opened = compose_view(meta=ComposeMeta("C1"), zone=UTC, text="Atenção").to_dict()
    assert "sms_gsm" in _ids(opened)
    plain = compose_view(meta=ComposeMeta("C1"), zone=UTC).to_dict()
    filled = with_template(plain, "Olá {nome}")
    assert _ids(filled).count("sms_gsm") == 1
    assert "sms_gsm" not in _ids(with_template(filled, "Hi {name}"))
