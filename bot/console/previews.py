"""A send to many's preview in ``smsbot console``: its "Send to N" and "Cancel" as yes or no.

Slack shows the preview with two buttons; the console prints it, asks yes or no, and presses
the button answered, as Slack posts a click.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlencode

from bot.console.modal import CONSOLE_WORDS, Ask, FormInterruptedError
from handlers.campaign_preview import BUTTONS_BLOCK, CANCEL_ACTION, CONFIRM_ACTION
from handlers.i18n import gettext as _
from handlers.mrkdwn import unmarked

if TYPE_CHECKING:
    from bot.console.slack import ConsoleSlack


class PreviewConfirming:
    """The console's side of a preview: ask yes or no, then press its button.

    Mixed into the console, which provides the attributes and the methods below.
    """

    if TYPE_CHECKING:
        slack: ConsoleSlack
        out: TextIO
        user_id: str
        channel_id: str
        slack_url: str

        async def _post(self, raw: str) -> tuple[int, str]: ...

        async def _answered(self, shown: int, opened: int | None = None) -> None: ...

    async def confirm_preview(self, ask: Ask) -> None:
        """After a preview was shown: ask whether to send, and press "Send to N" or "Cancel".

        The end of the input (or Ctrl-C) answers no: nothing is sent unasked.
        """
        buttons = dict(self.slack.preview_buttons)
        self.slack.preview_buttons.clear()
        if CONFIRM_ACTION not in buttons:
            return
        value, label = buttons[CONFIRM_ACTION]
        yes, no = CONSOLE_WORDS.word("yes"), CONSOLE_WORDS.word("no")
        question = _("%(button)s? (%(yes)s/%(no)s): ") % {
            "button": unmarked(label),
            "yes": yes,
            "no": no,
        }
        while True:
            try:
                typed = await ask(question)
            except FormInterruptedError:
                typed = None
            meaning = "no" if typed is None else CONSOLE_WORDS.meaning(typed.strip())
            if meaning in {"yes", "no"}:
                break
            self.out.write("  " + _("Answer %(yes)s or %(no)s.") % {"yes": yes, "no": no} + "\n")
        action = CONFIRM_ACTION if meaning == "yes" else CANCEL_ACTION
        await self._press(action, buttons.get(action, (value, ""))[0])

    async def _press(self, action: str, value: str) -> None:
        """Post the click of a preview's button, as Slack does, and wait for its answer."""
        payload = {
            "type": "block_actions",
            "team": {"id": "TCONSOLE"},
            "user": {"id": self.user_id},
            "channel": {"id": self.channel_id},
            "container": {"type": "message", "is_ephemeral": True},
            "api_app_id": "ACONSOLE",
            "trigger_id": f"console.{time.time_ns()}",
            "response_url": f"{self.slack_url}response/preview",
            "actions": [
                {"type": "button", "action_id": action, "value": value, "block_id": BUTTONS_BLOCK}
            ],
        }
        shown = self.slack.shown
        await self._post(urlencode({"payload": json.dumps(payload)}))
        await self._answered(shown)
