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
from handlers.grammar.templates import MAX_PLACEHOLDERS, body_problem, fill, placeholders
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


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a" * 1531, "at most 10 segments, 1,530 GSM-7 characters"),
        ("ã" * 671, "at most 10 segments, 670 UCS-2 characters"),
        ("x" * 30_000, "is 197 SMS segments long (30,000 GSM-7 characters)"),
    ],
)
def test_a_template_longer_than_one_sms_is_refused_naming_the_limit(text: str, said: str) -> None:
    """A text over 10 segments, counted as written, is refused with the limit in characters."""
    with pytest.raises(UsageError) as caught:
        parse(f"template add long {text}")
    assert said in caught.value.sentence
    assert caught.value.usage.startswith("Usage: /sms template")


def test_unfilled_placeholders_count_as_written() -> None:
    """A text of exactly 10 segments with its {placeholders} unfilled is saved; one more is not."""
    text = "{name} " + "a" * (1530 - 9)  # the braces are GSM-7 extension characters: 2 each
    assert parse(f"template add full {text}") == TemplateAddCommand("full", text)
    assert body_problem(text + "a") is not None


def test_placeholders_are_capped() -> None:
    """20 distinct placeholders are saved; 21 are refused, naming the cap."""
    twenty = " ".join(f"{{p{i}}}" for i in range(MAX_PLACEHOLDERS))
    assert parse(f"template add many {twenty} {{p0}}") == TemplateAddCommand(
        "many", twenty + " {p0}"
    )
    with pytest.raises(UsageError) as caught:
        parse(f"template add many {twenty} {{p20}}")
    assert "21 placeholders" in caught.value.sentence
    assert "at most 20" in caught.value.sentence


def test_a_template_with_a_control_character_is_refused() -> None:
    """A template text holding a control character is refused; line breaks and tabs are text."""
    with pytest.raises(UsageError) as caught:
        parse("template add bell Hi\x07 {name}")
    assert "control character (U+0007, character 3)" in caught.value.sentence
    assert parse("template add two Hi {name}\n\tbye") == TemplateAddCommand(
        "two", "Hi {name}\n\tbye"
    )


@pytest.mark.parametrize(
    "typed", ["template remove a\nb", "template remove a\u2028b", "template remove a\rb"]
)
def test_a_name_never_holds_a_line_break(typed: str) -> None:
    """A line break ends a name: what follows it is not part of the name, so it is refused."""
    with pytest.raises(UsageError):
        parse(typed)


def test_a_name_is_read_up_to_a_line_break() -> None:
    """Saved names hold only letters, digits, - and _ : a line break after a name starts the text."""
    assert parse("template add ready\n• *fake*: x") == TemplateAddCommand("ready", "• *fake*: x")


def test_a_value_with_a_control_character_is_refused() -> None:
    """A placeholder's value holding a control character is refused, naming the placeholder."""
    with pytest.raises(UsageError) as caught:
        fill("Hi {name}", {"name": "Ana\x00"})
    assert "value of {name}" in caught.value.sentence
    assert "U+0000" in caught.value.sentence


@pytest.mark.parametrize(
    ("typed", "page"),
    [
        ("template list", 1),
        ("template list page:2", 2),
        ("template list PAGE:3", 3),
        ("modelo listar página:4", 4),
        ("modelo listar pagina:5", 5),
    ],
)
def test_the_list_takes_a_page(typed: str, page: int) -> None:
    """``/sms template list page:N`` (``página:N`` in Portuguese) asks for page N."""
    assert parse(typed) == TemplateListCommand(page)


@pytest.mark.parametrize(
    "typed",
    ["template list 2", "template list page:0", "template list page:x", "template list size:2"],
)
def test_a_bad_list_page_is_refused(typed: str) -> None:
    """Anything but ``page:N`` from 1 after list is a usage error with the template usage."""
    with pytest.raises(UsageError) as caught:
        parse(typed)
    assert caught.value.usage.startswith("Usage: /sms template")
