"""A send to many at the console: a CSV file's path where Slack takes a file, previewed, then yes/no."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from storage.schema import open_database
from testkit.database import run_sql
from tests.bot.conftest import console_in_process, sections

CSV = "telefone;nome\n5511987654321;Ana\n5511912345678;Bruno\n"


def campaign_states(tmp_path: Path) -> list[str]:
    """The state of each campaign the console's database holds, oldest first."""
    with closing(open_database(tmp_path / "console.db")) as db:
        return [row["state"] for row in run_sql(db, "SELECT state FROM campaigns ORDER BY id")]


def preview_of(out: str) -> str:
    """The body of the one private reply holding a preview's "Send to N" button."""
    (body,) = [body for _, body in sections(out) if "Send to 2" in body]
    return body


async def test_a_csv_path_previews_and_sends_after_yes(tmp_path: Path) -> None:
    """No number, then a CSV path: the preview shows the first text; yes sends the campaign."""
    table = tmp_path / "clientes.csv"
    table.write_text(CSV, encoding="utf-8")
    script = f"/sms\n\n{table}\nOi {{nome}}, seu pedido chegou\n\n\n\n\nyes\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert "CSV file (send to many) (a path on this computer): " in out
    assert "Oi Ana, seu pedido chegou" in preview_of(out)
    assert "Send to 2? (yes/no): " in out
    assert campaign_states(tmp_path)[0] in {"confirmed", "sending", "sent"}


async def test_no_at_the_preview_sends_nothing(tmp_path: Path) -> None:
    """Answered no, the preview is cancelled: the campaign is never sent."""
    table = tmp_path / "clientes.csv"
    table.write_text(CSV, encoding="utf-8")
    script = f"/sms\n\n{table}\nOi {{nome}}\n\n\n\n\nno\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert "Send to 2" in preview_of(out)
    assert campaign_states(tmp_path) == ["cancelled"]


async def test_a_path_with_no_file_is_asked_again(tmp_path: Path) -> None:
    """A path where no file is: said so, and asked again; cancel closes the form."""
    script = f"/sms\n\n{tmp_path / 'missing.csv'}\ncancel\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert f"There is no file to read at {tmp_path / 'missing.csv'}." in out
    assert "(the form was closed without sending)" in out
    assert campaign_states(tmp_path) == []


async def test_neither_a_number_nor_a_file_is_asked_again(tmp_path: Path) -> None:
    """Enter at the number and at the file: the form's sentence, and the file asked again."""
    script = "/sms\n\n\ncancel\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert "Give the phone numbers to send to, or choose a CSV file." in out
    assert "(the form was closed without sending)" in out
