"""Reading what Mobizon's error envelopes carry in ``data``, and keeping secrets out of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.mobizon._redact import redact


def messages_of(value: object) -> list[str]:
    """Flatten one field's error value (a string, a list, a nested dict...) to strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in messages_of(item)]
    if isinstance(value, Iterable):
        return [text for item in value for text in messages_of(item)]
    return [str(value)]


def fields_of(data: object) -> dict[str, list[str]]:
    """Field -> messages from whatever shape code 1's ``data`` has; unnamed ones under ``""``."""
    fields: dict[str, list[str]] = {}
    if isinstance(data, Mapping):
        for name, value in data.items():
            messages = messages_of(value)
            if messages:
                fields.setdefault(str(name), []).extend(messages)
    elif isinstance(data, str | bytes) or not isinstance(data, Iterable):
        messages = messages_of(data if not isinstance(data, bytes) else None)
        if messages:
            fields[""] = messages
    else:
        for item in data:
            for name, messages in fields_of(item).items():
                fields.setdefault(name, []).extend(messages)
    return fields


def domain_of(data: object) -> str | None:
    """Find the right API domain in code 13's ``data``: a string, or a dict or list holding it."""
    if isinstance(data, str):
        return data.strip() or None
    if isinstance(data, Mapping):
        for key in ("domain", "apiDomain", "api_domain", "server", "apiServer", "host", "url"):
            found = domain_of(data.get(key))
            if found:
                return found
        values: Iterable[object] = data.values()
    elif isinstance(data, Iterable) and not isinstance(data, bytes):
        values = data
    else:
        return None
    return next((found for value in values if (found := domain_of(value))), None)


def redact_data(data: object, secrets: Iterable[str]) -> object:
    """``data`` with every secret removed from its strings, keys included, however deep."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return data
    if isinstance(data, str):
        return redact(data, secrets)
    if isinstance(data, Mapping):
        return {redact_data(k, secrets): redact_data(v, secrets) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(item, secrets) for item in data]
    return data
