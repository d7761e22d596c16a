"""The template grammar: ``/sms template …``, ``/sms send --template``, and filling placeholders."""

from __future__ import annotations

import pytest

from handlers.grammar import (
    TemplateAddCommand,
    TemplateListCommand,
    TemplateRemoveCommand,
    TemplateSendCommand,
    UsageError,
)
from handlers.grammar.templates import fill, placeholders
from tests.handlers.grammar.helpers import BR_MOBILE, parse


def test_template_subcommands() -> None:
    """Add keeps the text as typed, list takes nothing, remove takes a name; names lose case."""
    assert parse("template add Ready Hi {name}, order {order} is ready") == TemplateAddCommand(
        "ready", "Hi {name}, order {order} is ready"
    )
    assert parse("template list") == TemplateListCommand()
    assert parse("template remove READY") == TemplateRemoveCommand("ready")


@pytest.mark.parametrize(
    "typed",
    [
        "template",
        "template edit x",
        "template add",
        "template add x",
        "template add a.b hi",
        "template remove",
        "template remove x y",
        "template list x",
    ],
)
def test_bad_template_commands_are_refused(typed: str) -> None:
    """Each malformed template command is a usage error with the template usage line."""
    with pytest.raises(UsageError) as caught:
        parse(typed)
    assert caught.value.usage.startswith("Usage: /sms template")


def test_send_with_a_template_reads_values() -> None:
    """``--template NAME PHONE key=value key="two words"`` is read into its parts."""
    assert parse(f'send --template ready {BR_MOBILE} name=Ana order="A 17"') == (
        TemplateSendCommand("ready", BR_MOBILE, (("name", "Ana"), ("order", "A 17")))
    )
    assert parse(f"send --template=ready {BR_MOBILE}") == TemplateSendCommand("ready", BR_MOBILE)


@pytest.mark.parametrize(
    "typed",
    [
        "send --template",
        "send --template ready",
        "send --template ready 12 name=Ana",
        f"send --template ready {BR_MOBILE} Ana",
        f"send --template ready {BR_MOBILE} name=Ana name=Bia",
        f'send --template ready {BR_MOBILE} name="Ana',
    ],
)
def test_bad_template_sends_are_refused(typed: str) -> None:
    """Each malformed template send is a usage error with its usage line."""
    with pytest.raises(UsageError) as caught:
        parse(typed)
    assert caught.value.usage.startswith("Usage: /sms send --template")


def test_fill_replaces_every_placeholder() -> None:
    """Every {placeholder} gets its value; other braces stay."""
    text = "Hi {name}, {name}! Order {order} {not a placeholder}"
    assert placeholders(text) == ["name", "order"]
    assert fill(text, {"name": "Ana", "order": "17"}) == "Hi Ana, Ana! Order 17 {not a placeholder}"


def test_a_missing_value_is_refused_naming_it() -> None:
    """A placeholder without a value is refused with a sentence naming it."""
    with pytest.raises(UsageError, match=r"\{order\}"):
        fill("Hi {name}, order {order}", {"name": "Ana"})


def test_an_unknown_value_is_refused() -> None:
    """A value for a placeholder the template does not have is refused."""
    with pytest.raises(UsageError, match=r"no placeholder \{nmae\}"):
        fill("Hi {name}", {"name": "Ana", "nmae": "x"})
