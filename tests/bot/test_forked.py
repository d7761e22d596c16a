"""The forked ``smsbot`` processes the serve and console tests start behave as the script does."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

import bot.process.app
import bot.process.tracking
from testkit.clock import FastForwardClock
from testkit.slack import FakeSlack
from tests.bot.forked import QUICK_SANDBOX_SPEED, _quicken, start_smsbot
from tests.bot.serve_process import ServeProcess, base_env, run_cli


def _parent_of(pid: int) -> int:
    """The parent process id of ``pid``, as Linux shows it."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


async def test_a_forked_smsbot_answers_as_the_installed_script(tmp_path: Path) -> None:
    """--version and a refused setting: the same output and exit code as the script's own run."""
    env = base_env("http://127.0.0.1:9/", tmp_path / "smsbot.db", SMSBOT_POLL_INTERVAL="soon")
    for args in (("--version",), ("serve",)):
        forked = await start_smsbot(*args, env=env)
        out, err = await asyncio.wait_for(forked.communicate(), 60)
        assert (forked.returncode, out.decode(), err.decode()) == await run_cli(env, *args)
    assert forked.returncode == 2
    assert "SMSBOT_POLL_INTERVAL must be a number of seconds" in err.decode()


async def test_a_forked_serve_is_this_processs_child_in_the_given_folder_and_environment(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Its parent is the test process, a relative SMSBOT_DB lands in its folder, SIGTERM ends it."""
    env = base_env(fake_slack.url, Path("relative.db"))
    serve = await ServeProcess.start(env, cwd=tmp_path)
    process = serve.process
    try:
        assert _parent_of(process.pid) == os.getpid()
        assert (tmp_path / "relative.db").exists()
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 60) == 0
    finally:
        await serve.kill()


def test_a_quick_smsbot_paces_on_a_skipping_clock_and_runs_its_sandbox_faster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What ``quick=True`` changes in the forked process exists: the notifier's clock, the speed."""
    # kept as they are, so the test's process gets them back after
    tracking = vars(bot.process.tracking)
    monkeypatch.setattr(bot.process.tracking, "SYSTEM_CLOCK", tracking["SYSTEM_CLOCK"])
    monkeypatch.setattr(bot.process.app, "SANDBOX_SPEED", bot.process.app.SANDBOX_SPEED)
    _quicken()
    assert isinstance(tracking["SYSTEM_CLOCK"], FastForwardClock)
    assert bot.process.app.SANDBOX_SPEED == QUICK_SANDBOX_SPEED > 1
