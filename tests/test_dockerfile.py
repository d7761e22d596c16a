"""The Dockerfile: a pinned Debian base, dependencies cached apart from the code, a quick health check."""

from __future__ import annotations

import asyncio
import json
import os
import re
import tomllib
from asyncio.subprocess import DEVNULL
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import BotHarness, refusing_port

ROOT = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_base_image_is_pinned_to_a_debian_release() -> None:
    """FROM names a Debian release, so a rebuild does not silently move to the next one."""
    (base,) = [rest for keyword, rest in _instructions() if keyword == "FROM"]
    assert re.fullmatch(r"python:3\.11-slim-(bookworm|trixie)", base), base


def test_dependencies_are_installed_before_the_code_is_copied() -> None:
    """Only pyproject.toml is copied before the dependencies install; the code comes after."""
    steps = _instructions()
    install = next(i for i, (k, rest) in enumerate(steps) if k == "RUN" and "-r " in rest)
    copied_before = [rest for k, rest in steps[:install] if k == "COPY"]
    assert copied_before == ["pyproject.toml /tmp/smsbot/pyproject.toml"]
    copied_after = " ".join(rest for k, rest in steps[install:] if k == "COPY")
    for package in ("bot", "handlers", "storage"):
        assert f"{package} " in copied_after
    final_install = next(rest for k, rest in steps[install + 1 :] if k == "RUN" and "pip" in rest)
    assert "--no-deps" in final_install


def _health() -> str:
    (health,) = [rest for keyword, rest in _instructions() if keyword == "HEALTHCHECK"]
    return health


def _seconds(option: str) -> int:
    found = re.search(rf"--{option}=(\d+)s\b", _health())
    assert found is not None, option
    return int(found.group(1))


def test_the_health_check_builds_on_docker_20_10() -> None:
    """HEALTHCHECK uses only options Docker 20.10 knows (it refuses --start-interval, Docker 25's)."""
    options = re.findall(r"--([a-z-]+)=", _health().split(" CMD ", 1)[0])
    assert set(options) <= {"interval", "timeout", "start-period", "retries"}, options


def test_health_turns_good_within_seconds_and_no_no_op_stopsignal() -> None:
    """The first check comes one interval after start, so the interval is seconds; no STOPSIGNAL."""
    assert _seconds("interval") <= 3  # healthy within 10 s of start, the app taking a few
    assert _seconds("timeout") <= 5
    assert _seconds("start-period") >= 30  # failures while starting do not count
    assert "STOPSIGNAL" not in [keyword for keyword, _ in _instructions()]


def _check_command() -> list[str]:
    command = json.loads(_health().split(" CMD ", 1)[1])
    assert isinstance(command, list)
    return [str(part) for part in command]


def test_the_check_starts_no_python() -> None:
    """A check every two seconds runs bash alone (Debian slim has it; Python costs 50 times more)."""
    command = _check_command()
    assert command[:2] == ["bash", "-c"]
    assert "python" not in " ".join(command)
    assert "/healthz" in command[2]


async def _run_check(port: int) -> int:
    env = {"PATH": os.environ["PATH"], "PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        *_check_command(), env=env, stdout=DEVNULL, stderr=DEVNULL
    )
    return await asyncio.wait_for(process.wait(), timeout=10)


async def test_the_check_passes_on_200_and_fails_on_503_or_no_answer(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Dockerfile's check, run against the real /healthz: 0 when healthy, else non-zero."""
    port = int(urlsplit(bot.url).port or 0)
    assert await _run_check(port) == 0
    monkeypatch.setattr(bot.runtime.health, "scheduler", lambda: False)
    async with bot.session.get(bot.url + "healthz") as response:
        assert response.status == 503
    assert await _run_check(port) != 0
    assert await _run_check(refusing_port()) != 0


def test_phone_numbers_come_without_carrier_data() -> None:
    """The project depends on phonenumberslite, not on phonenumbers' 48 MB of carrier and geo data."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0] for dep in project["dependencies"]]
    assert "phonenumberslite" in names
    assert "phonenumbers" not in names
