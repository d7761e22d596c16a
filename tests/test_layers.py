"""Imports point one way (DESIGN.md, "Layout and the direction of imports")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Each layer, as module prefixes, and the prefixes of ours it must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # Slack code uses the domain and the gateway's types, errors and Protocol, never the process
    # nor the gateway's client or wire format
    "handlers": (
        "bot.app",
        "bot.runtime",
        "bot.cli",
        "bot.console",
        "bot.tracking",
        "bot.metrics",
        "bot.inflight",
        "bot.mobizon.client",
        "bot.mobizon.wire",
        "bot.simulator",
    ),
    "storage": ("bot", "handlers"),
    "bot.mobizon": ("bot.sending", "bot.delivery", "bot.app", "bot.runtime", "handlers", "storage"),
    "bot.sending": ("handlers", "slack_sdk", "slack_bolt", "bot.delivery", "bot.app"),
    "bot.delivery": ("handlers", "slack_sdk", "slack_bolt", "bot.app"),
    "bot.simulator": ("storage", "handlers", "bot.sending", "bot.delivery", "bot.app"),
}

#: Upward imports that remain, each with its reason; the test fails if one disappears unnoticed.
KNOWN: frozenset[tuple[str, str]] = frozenset()


def _module(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """The modules ``path`` imports, relative imports resolved against its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                found.add(".".join([*base, node.module]))
            else:
                found.update(".".join([*base, alias.name]) for alias in node.names)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def upward_imports(root: Path = ROOT) -> set[tuple[str, str]]:
    """Every (module, forbidden prefix) pair where a module under ``root`` imports upward."""
    found: set[tuple[str, str]] = set()
    for folder in ("bot", "handlers", "storage"):
        for path in (root / folder).rglob("*.py"):
            module = _module(path, root)
            for layer, forbidden in FORBIDDEN.items():
                if not _within(module, layer):
                    continue
                for name in _imports(path, root):
                    for prefix in forbidden:
                        if _within(name, prefix):
                            found.add((module, prefix))
    # bot.mobizon imports nothing of ours but itself (bot.mobizon.redact is a known exception)
    for path in (root / "bot" / "mobizon").rglob("*.py"):
        for name in _imports(path, root):
            if _within(name, "bot") and not _within(name, "bot.mobizon"):
                found.add((_module(path, root), name))
    return found


def test_no_import_runs_upward() -> None:
    """No module imports from a layer above its own, beyond the exceptions listed here."""
    assert upward_imports() - KNOWN == set()


def test_known_exceptions_still_exist() -> None:
    """Each listed exception is still real, so the list shrinks as the code is fixed."""
    assert upward_imports() >= KNOWN


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    """The checker flags storage importing Slack code, the domain Slack, the gateway the domain."""
    for folder, source in {
        "storage": "from handlers import blocks\n",
        "storage/deeper": "from ...handlers import notifier\nfrom .. import schema\n",
        "bot/sending": "from slack_sdk.web.async_client import AsyncWebClient\n",
        "bot/mobizon": "import bot.sending.service\n",
        "handlers": "",
    }.items():
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "probe.py").write_text(source, encoding="utf-8")
    assert upward_imports(tmp_path) == {
        ("storage.probe", "handlers"),
        ("storage.deeper.probe", "handlers"),
        ("bot.sending.probe", "slack_sdk"),
        ("bot.mobizon.probe", "bot.sending"),
        ("bot.mobizon.probe", "bot.sending.service"),
    }
