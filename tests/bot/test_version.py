"""``smsbot --version`` names the installed package's version."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from bot.cli import main


def test_version_comes_from_the_installed_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    """`--version` prints "smsbot <version>" from the package metadata and exits 0."""
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"smsbot {importlib.metadata.version('smsbot')}\n"


def test_version_from_the_command_line() -> None:
    """`python -m bot --version` answers without starting anything or reading settings."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"smsbot {importlib.metadata.version('smsbot')}"
    assert done.stderr == ""


@pytest.mark.parametrize("command", ["serve", "check", "console", "simulator"])
def test_every_command_answers_version(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`smsbot <command> --version` prints the version and exits 0, reading no settings."""
    with pytest.raises(SystemExit) as stopped:
        main([command, "--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"smsbot {importlib.metadata.version('smsbot')}\n"


def test_smsbot_alone_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`smsbot` with no command prints the help, naming every command, and exits 0."""
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: smsbot ")
    for command in ("serve", "check", "console", "simulator"):
        assert f"    {command} " in captured.out
    assert captured.err == ""
