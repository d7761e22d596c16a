"""Reading a CSV file from Slack: ``files.info`` for its id, then its bytes from ``url_private``.

The bytes are fetched with the bot token as ``Authorization: Bearer``, only from Slack's own
hosts (the Web API's host or a subdomain of it), within :data:`MAX_BYTES` and
:data:`DOWNLOAD_TIMEOUT`. Every way it can fail is a :class:`FileRefused` value with a sentence
for the person (:func:`refused_sentence`); the token is never logged nor put in an error.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import formats
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape
from handlers.posting import slack_error

logger = logging.getLogger(__name__)

#: The largest CSV file read: 10,000 rows of a few columns fit well within it.
MAX_BYTES = 5 * 1024 * 1024
#: How long fetching one file's bytes may take, in seconds.
DOWNLOAD_TIMEOUT = 20.0
#: How much of the file is read at a time.
_CHUNK = 64 * 1024
#: ``files.info`` errors that mean the file was deleted.
_GONE = frozenset({"file_deleted"})
#: ``files.info`` errors that mean the bot may not see the file.
_NOT_SHARED = frozenset({"file_not_found", "access_denied", "not_in_channel", "not_visible"})


class FileProblem(enum.StrEnum):
    """Why a Slack file could not be read."""

    NOT_CSV = "not_csv"
    GONE = "gone"
    NOT_SHARED = "not_shared"
    TOO_BIG = "too_big"
    UNREADABLE = "unreadable"
    """Slack answered an error smsbot has no better sentence for, or the download failed."""


@dataclass(frozen=True, slots=True)
class SlackFile:
    """A CSV file read from Slack: its name and its bytes."""

    file_id: str
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class FileRefused:
    """The file was not read: ``problem``, its ``name`` when known, and Slack's ``error``."""

    problem: FileProblem
    name: str = ""
    error: str = ""
    size: int | None = None


def is_csv(info: dict[str, Any]) -> bool:
    """True when a Slack file object (``files.info``, a message's ``files``) is a CSV file."""
    filetype = str(info.get("filetype") or "").lower()
    name = str(info.get("name") or info.get("title") or "").lower()
    mimetype = str(info.get("mimetype") or "").lower()
    return filetype == "csv" or name.endswith(".csv") or mimetype == "text/csv"


async def read_csv_file(
    client: AsyncWebClient,
    file_id: str,
    *,
    max_bytes: int = MAX_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,  # noqa: ASYNC109  # the download's own bound
) -> SlackFile | FileRefused:
    """The CSV file ``file_id`` as the bot sees it, or why it cannot be read."""
    info = await _look_up(client, file_id)
    if isinstance(info, FileRefused):
        return info
    name = str(info.get("name") or info.get("title") or file_id)
    if not is_csv(info):
        return FileRefused(FileProblem.NOT_CSV, name=name)
    size = info.get("size")
    if isinstance(size, int) and size > max_bytes:
        return FileRefused(FileProblem.TOO_BIG, name=name, size=size)
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    if not url or not _slack_host(url, client.base_url):
        logger.warning("a Slack file has no address on Slack's hosts to read it from")
        return FileRefused(FileProblem.UNREADABLE, name=name, error="no_url")
    return await _download(client, url, file_id, name, max_bytes=max_bytes, timeout=timeout)


async def _look_up(client: AsyncWebClient, file_id: str) -> dict[str, Any] | FileRefused:
    """``files.info``'s file object, or why it cannot be had."""
    try:
        found = await client.files_info(file=file_id)
    except SlackApiError as err:
        error = slack_error(err)
        logger.info("a Slack file could not be looked up", extra={"error": error})
        if error in _GONE:
            return FileRefused(FileProblem.GONE, error=error)
        if error in _NOT_SHARED:
            return FileRefused(FileProblem.NOT_SHARED, error=error)
        return FileRefused(FileProblem.UNREADABLE, error=error)
    except (aiohttp.ClientError, TimeoutError) as err:
        logger.info("a Slack file could not be looked up", extra={"error": type(err).__name__})
        return FileRefused(FileProblem.UNREADABLE, error=type(err).__name__)
    info = found.get("file")
    return dict(info) if isinstance(info, dict) else {}


async def _download(
    client: AsyncWebClient,
    url: str,
    file_id: str,
    name: str,
    *,
    max_bytes: int,
    timeout: float,  # noqa: ASYNC109
) -> SlackFile | FileRefused:
    headers = {"Authorization": f"Bearer {client.token}"}
    own = client.session is None
    session = aiohttp.ClientSession() if own else client.session
    assert session is not None  # noqa: S101  # for the type checker: made just above
    try:
        async with session.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as answer:
            if answer.status in (403, 404):
                return FileRefused(FileProblem.NOT_SHARED, name=name, error=f"http_{answer.status}")
            if answer.status != 200:  # noqa: PLR2004
                logger.info("a Slack file could not be read", extra={"status": answer.status})
                return FileRefused(FileProblem.UNREADABLE, name=name, error=f"http_{answer.status}")
            if _is_html(answer.content_type):  # Slack's sign-in page: the token was not taken
                return FileRefused(FileProblem.NOT_SHARED, name=name, error="sign_in_page")
            data = bytearray()
            async for chunk in answer.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > max_bytes:
                    return FileRefused(FileProblem.TOO_BIG, name=name, size=len(data))
    except (aiohttp.ClientError, TimeoutError) as err:
        # the exception's text may quote the request: only its type is logged
        logger.info("a Slack file could not be read", extra={"error": type(err).__name__})
        return FileRefused(FileProblem.UNREADABLE, name=name, error=type(err).__name__)
    finally:
        if own:
            await session.close()
    return SlackFile(file_id, name, bytes(data))


def _is_html(content_type: str) -> bool:
    return content_type.lower() in {"text/html", "application/xhtml+xml"}


def _slack_host(url: str, api_url: str) -> bool:
    """True when ``url`` is on the Web API's host or a subdomain of it: the token may go there.

    ``https://files.slack.com/…`` for ``https://slack.com/api/``; a loopback fake for itself.
    """
    target, api = urlsplit(url), urlsplit(api_url)
    host, api_host = (target.hostname or "").lower(), (api.hostname or "").lower()
    if not host or not api_host or target.scheme not in {"https", api.scheme}:
        return False
    return host == api_host or host.endswith("." + api_host)


def refused_sentence(refused: FileRefused) -> str:
    """What the person is told when their file could not be read."""
    name = f"*{escape(refused.name)}*" if refused.name else _("The file")
    if refused.problem is FileProblem.NOT_CSV:
        return _(
            ":no_entry: %(name)s is not a CSV file. Save the spreadsheet as CSV (comma or "
            "semicolon separated) and choose that file."
        ) % {"name": name}
    if refused.problem is FileProblem.TOO_BIG:
        return _(
            ":no_entry: %(name)s is larger than %(limit)s, the most smsbot reads. Split it into "
            "smaller files."
        ) % {"name": name, "limit": megabytes(MAX_BYTES)}
    if refused.problem is FileProblem.GONE:
        return _(":no_entry: The file was deleted from Slack; upload it again.")
    if refused.problem is FileProblem.NOT_SHARED:
        return _(
            ":no_entry: smsbot cannot see this file. Share it in a channel smsbot is in, or "
            "choose it in the form's CSV file field."
        )
    return _(
        ":warning: smsbot could not read the file from Slack (%(error)s), so nothing was sent. "
        "Try again in a moment."
    ) % {"error": escape(refused.error or "error")}


def megabytes(size: int) -> str:
    """A size in whole megabytes, as people read it: ``5 MB``."""
    return _("%(count)s MB") % {"count": formats.number(size // (1024 * 1024))}
