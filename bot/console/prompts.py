"""Where ``smsbot console`` reads from: a terminal (line editing, history) or a pipe.

Each gives the console's commands and the compose form's answers. At a terminal, Ctrl-C or
Ctrl-D at the command prompt ends the console; Ctrl-C at a form's question only leaves the form.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, Protocol, TextIO

from bot.console.modal import FormInterruptedError

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

PROMPT = "sms> "


class Input(Protocol):
    """The console's source of lines."""

    async def command(self) -> str | None:
        """The next command line; ``None`` when the input ended (or the person left)."""
        ...

    async def answer(self, question: str) -> str | None:
        """The answer to a form's ``question``; ``None`` at the end of input.

        Raises :class:`FormInterruptedError` on Ctrl-C at a terminal.
        """
        ...


class TerminalInput:
    """Lines typed at a terminal, through prompt_toolkit.

    Output printed meanwhile (delivery updates) goes through prompt_toolkit's stdout proxy,
    which prints it above the prompt and redraws the prompt with what was being typed. Commands
    and form answers keep separate histories, so the arrow keys recall one of the same kind.
    """

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._commands: PromptSession[str] = _session()
        self._answers: PromptSession[str] = _session()

    async def command(self) -> str | None:
        """The next command; ``None`` on Ctrl-C or Ctrl-D, which leave."""
        try:
            return await self._commands.prompt_async(PROMPT)
        except (EOFError, KeyboardInterrupt):
            self._out.write("\n")
            return None

    async def answer(self, question: str) -> str | None:
        """The answer typed after ``question``; Ctrl-C raises, Ctrl-D is ``None``."""
        try:
            return await self._answers.prompt_async(question)
        except EOFError:
            return None
        except KeyboardInterrupt:
            self._out.write("\n")
            raise FormInterruptedError from None


class PipedInput:
    """Lines of a pipe as they come; each form question is printed on its own line."""

    def __init__(self, stream: TextIO, out: TextIO) -> None:
        self._out = out
        self._queue = _read_lines(stream)
        self._ended = False

    async def command(self) -> str | None:
        """The next line; ``None`` once the pipe ended."""
        if self._ended:
            return None
        line = await self._queue.get()
        self._ended = line is None
        return line

    async def answer(self, question: str) -> str | None:
        """The next line, after printing ``question``."""
        self._out.write(question + "\n")
        self._out.flush()
        return await self.command()


def _session() -> PromptSession[str]:
    from prompt_toolkit import PromptSession  # noqa: PLC0415  # only a terminal needs it
    from prompt_toolkit.history import InMemoryHistory  # noqa: PLC0415

    return PromptSession(history=InMemoryHistory())


def _read_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines of a piped ``stream`` as they come, then ``None`` at its end.

    A daemon thread reads them: one blocked on a pipe that never closes must not keep the
    process from ending after ``quit`` (an executor thread would be waited for at exit).
    """
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def reader() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody reads any more
            for line in stream:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=reader, name="console stdin", daemon=True).start()
    return queue
