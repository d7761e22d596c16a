"""The Dockerfile: a pinned Debian base, dependencies cached apart from the code, a quick health check."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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


def test_health_turns_good_within_seconds_and_no_no_op_stopsignal() -> None:
    """HEALTHCHECK probes every second while starting; SIGTERM is Docker's default, not restated."""
    steps = _instructions()
    (health,) = [rest for keyword, rest in steps if keyword == "HEALTHCHECK"]
    interval = re.search(r"--start-interval=(\d+)s", health)
    assert interval is not None
    assert int(interval.group(1)) <= 2
    assert "/healthz" in health
    assert "STOPSIGNAL" not in [keyword for keyword, _ in steps]


def test_phone_numbers_come_without_carrier_data() -> None:
    """The project depends on phonenumberslite, not on phonenumbers' 48 MB of carrier and geo data."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0] for dep in project["dependencies"]]
    assert "phonenumberslite" in names
    assert "phonenumbers" not in names
