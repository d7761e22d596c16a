"""The fake Slack's files the bot reads: ``files.info`` and each file's bytes at ``url_private``.

Mixed into :class:`testkit.slack.FakeSlack`, which serves ``/files-pri/<id>/<name>`` with
:meth:`SlackFilesToRead._file` and answers ``files.info`` with :meth:`_files_info`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web


@dataclass
class SlackFilesToRead:
    """Files as Slack keeps them once uploaded, for the bot to read with its token."""

    if TYPE_CHECKING:
        #: The bot token Slack accepts, and the fake's base URL (:class:`FakeSlack`'s).
        token: str
        url: str

    #: Files ``files.info`` answers, by id (:meth:`add_file`), and their bytes, served at their
    #: ``url_private`` to the bot token only; a file not ``shared`` is found by no one.
    readable_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    #: Each download of a file's bytes: its id, and whether the bot token came with it.
    downloads: list[tuple[str, bool]] = field(default_factory=list)

    def add_file(
        self, name: str, data: bytes, *, filetype: str = "csv", shared: bool = True
    ) -> dict[str, Any]:
        """Keep a file as Slack would after an upload; its object as ``files.info`` gives it."""
        file_id = f"F{len(self.readable_files) + 1:04d}"
        url = f"{self.url}files-pri/{file_id}/{name}"
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "filetype": filetype,
            "mimetype": "text/csv" if filetype == "csv" else "application/octet-stream",
            "size": len(data),
            "url_private": url,
            "url_private_download": url + "?download=1",
            "shared": shared,
        }
        self.readable_files[file_id] = info
        self.file_bytes[file_id] = data
        return info

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info = self.readable_files.get(str(params.get("file", "")))
        if info is None or not info["shared"]:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": info}

    async def _file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["id"]
        authorized = request.headers.get("Authorization") == f"Bearer {self.token}"
        self.downloads.append((file_id, authorized))
        info = self.readable_files.get(file_id)
        if info is None or not info["shared"]:
            return web.Response(status=404, text="not found")
        if not authorized:  # as Slack: the sign-in page, not the file
            return web.Response(status=200, text="<html>sign in</html>", content_type="text/html")
        return web.Response(body=self.file_bytes[file_id], content_type="text/csv")
