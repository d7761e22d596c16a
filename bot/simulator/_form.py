"""PHP-style form decoding: ``ids[0]=1&params[validity]=60`` into nested dictionaries.

Mobizon is a PHP service, so its request bodies follow ``http_build_query``. The simulator
decodes them the way PHP fills ``$_POST``: bracketed names nest, ``[]`` appends, a later
value for the same name wins.
"""

from __future__ import annotations

from typing import TypeAlias
from urllib.parse import parse_qsl

#: One decoded value: a string, or a nested mapping for bracketed names (PHP arrays keep order).
PhpValue: TypeAlias = "str | dict[str, PhpValue]"

#: A whole decoded form: top-level names to values.
PhpForm: TypeAlias = dict[str, PhpValue]


def decode_php_form(raw: str) -> PhpForm:
    """Decode an ``application/x-www-form-urlencoded`` string with PHP bracket names."""
    return build_php_form(parse_qsl(raw, keep_blank_values=True, errors="replace"))


def build_php_form(pairs: list[tuple[str, str]]) -> PhpForm:
    """Nest already-unquoted ``(name, value)`` pairs the way PHP does."""
    form: PhpForm = {}
    for name, value in pairs:
        path = _split_name(name)
        if path[0]:
            _assign(form, path, value)
    return form


def from_json(decoded: object) -> PhpForm:
    """Turn a decoded JSON body into the form PHP would see; not an object: an empty form.

    Objects and lists nest, scalars become strings (``true`` ``"1"``, ``false`` ``""``,
    numbers as written), ``null`` is absent.
    """
    if not isinstance(decoded, dict):
        return {}
    nested = _json_value(decoded)
    return nested if isinstance(nested, dict) else {}


def _json_value(value: object) -> PhpValue | None:
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)  # type: ignore[assignment]  # a list is an array keyed by index
    elif value is None:
        return None
    elif isinstance(value, bool):
        return "1" if value else ""
    else:
        return str(value)
    nested: dict[str, PhpValue] = {}
    for key, item in items:
        converted = _json_value(item)
        if converted is not None:
            nested[str(key)] = converted
    return nested


def as_list(value: PhpValue | None) -> list[str]:
    """Read a list parameter given as a PHP array or as a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [item.strip() for item in value.values() if isinstance(item, str) and item.strip()]


def as_text(value: PhpValue | None) -> str | None:
    """Read a scalar parameter; an array where a scalar belongs counts as absent."""
    return value if isinstance(value, str) else None


def as_mapping(value: PhpValue | None) -> dict[str, PhpValue]:
    """Read an array parameter; a scalar where an array belongs counts as empty."""
    return value if isinstance(value, dict) else {}


def _split_name(name: str) -> list[str]:
    """Split ``a[b][]`` into ``["a", "b", ""]``; text after the last ``]`` is dropped like PHP."""
    open_at = name.find("[")
    if open_at <= 0 or "]" not in name[open_at:]:
        # PHP turns an unmatched "[" into "_" and keeps the name flat.
        return [name.replace("[", "_", 1)]
    path = [name[:open_at]]
    rest = name[open_at:]
    while rest.startswith("["):
        close_at = rest.find("]")
        if close_at < 0:
            break
        path.append(rest[1:close_at])
        rest = rest[close_at + 1 :]
    return path


def _assign(form: PhpForm, path: list[str], value: str) -> None:
    """Store ``value`` at ``path``, creating (or replacing scalars with) arrays on the way."""
    node = form
    for key in path[:-1]:
        slot = key or _next_index(node)
        child = node.get(slot)
        if not isinstance(child, dict):
            child = {}
            node[slot] = child
        node = child
    node[path[-1] or _next_index(node)] = value


def _next_index(node: dict[str, PhpValue]) -> str:
    """The key PHP gives to ``name[]``: one past the largest integer key so far."""
    indexes = [int(key) for key in node if key.lstrip("-").isdigit()]
    return str(max(indexes, default=-1) + 1)
