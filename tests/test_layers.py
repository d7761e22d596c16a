"""Imports point one way, without circles, through faces, and Slack code writes no storage itself.

DESIGN.md, "Layout and the direction of imports". The code is read by :mod:`tests.layers`.
Each rule has its list of known exceptions, each with its reason: removing an entry is all a
change that fixes one has to do, and a test fails if an entry stops being true.
"""

from __future__ import annotations

from pathlib import Path

from tests.layers import (
    OURS,
    ROOT,
    circles,
    imported_names,
    imports,
    modules,
    private_imports,
    storage_references,
    within,
)
from tests.layers import storage_writers as writers

#: Each layer, as module prefixes, and the prefixes of ours (modules, or names of a package's
#: face) it must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # Slack code uses the domain and the gateway's types and errors, never the process, the
    # console nor the gateway itself (its Protocol, client or wire format): listeners call the
    # domain's services
    "handlers": (
        "bot.process",
        "bot.console",
        "bot.cli",
        "bot.mobizon.MobizonClient",
        "bot.mobizon.MAX_IDS_PER_STATUS_REQUEST",
        "bot.mobizon.SmsGateway",
        "bot.simulator",
    ),
    # the domain knows nothing of Slack nor of the process that wires it
    "bot.sms": (
        "handlers",
        "slack_sdk",
        "slack_bolt",
        "bot.process",
        "bot.console",
        "bot.cli",
        "bot.simulator",
    ),
    # the send path does not reach into delivery tracking
    "bot.sms.sending": ("bot.sms.delivery",),
    # the process wires the domain, the gateway and Slack code; the console and the CLI wire it
    "bot.process": ("bot.console", "bot.cli"),
    # the console runs the process in a terminal; the CLI starts one or the other
    "bot.console": ("bot.cli",),
    # the simulator shares only the gateway's types
    "bot.simulator": ("storage", "handlers", "bot.sms", "bot.process", "bot.console", "bot.cli"),
}

#: The gateway and storage import nothing of ours outside themselves.
SELF_CONTAINED = ("bot.mobizon", "storage")

#: Slack code writes storage only through the domain's services, except the notifier's steps
#: through the outbox (it works the outbox rows, in Slack's order): these modules may write
#: the functions of :data:`OUTBOX`, nothing else.
OUTBOX_STEPS: dict[str, str] = {
    "handlers.notifier": "marks an outbox row's steps done, retries or postpones it, removes it",
    "handlers.notifier_outbox": "owns its channels' rows, finishes rows a later row supersedes",
    "handlers.first_posts": "records an SMS's first post (its message, or Slack's refusal) as "
    "it finishes the post's row",
}
OUTBOX = "storage.outbox"
#: Likewise the campaign reporter's steps through a campaign's one message (it is the outbox of
#: a send to many): these modules may write the functions of :data:`CAMPAIGN_REPORTS`.
CAMPAIGN_REPORT_STEPS: dict[str, str] = {
    "handlers.campaign_posts": "claims a campaign's message for a step, records its ts and its "
    "summary's as Slack takes them, gives the claim back when Slack refuses; takes an owed CSV "
    "of the recipients not reached and records it uploaded",
}
CAMPAIGN_REPORTS = ("storage.campaign_reports", "storage.campaign_files")

#: Tests that import a faced package's private module, (test module, private module), with the
#: reason: each checks a piece the face does not show. Production code never does.
TESTS_BEHIND_A_FACE: dict[tuple[str, str], str] = {
    ("tests.bot.test_mobizon_errors", "bot.mobizon._errors"): (
        "reads the errors module's docstring, which draws the whole exception tree"
    ),
    ("tests.bot.test_mobizon_errors", "bot.mobizon._failures"): (
        "builds a refused connection's error as the client does, to word it"
    ),
    ("tests.handlers.test_gateway_errors", "bot.mobizon._failures"): (
        "builds every connection and HTTP failure as the client does, to word each one"
    ),
    ("tests.bot.test_mobizon_account", "bot.mobizon._account_wire"): (
        "reads balance and campaign answers Mobizon may send but the simulator does not"
    ),
    ("tests.bot.test_mobizon_account", "bot.mobizon._wire"): (
        "expects the wire format's MalformedAnswerError from those answers"
    ),
    ("tests.bot.test_simulator", "bot.simulator._webhooks"): (
        "drives the webhook outbox directly against a receiver"
    ),
    ("tests.bot.test_simulator_numbers", "bot.simulator._sms"): (
        "clears the cache of the phone number lookup between cases"
    ),
    ("tests.bot.test_simulator_state", "bot.simulator._state"): (
        "writes the state file half-way to show the atomic write"
    ),
    ("tests.handlers.test_e2e_status_find", "bot.simulator._form"): (
        "decodes the ids of the status requests the simulator recorded"
    ),
}

#: Upward imports that remain, (module, forbidden prefix or import), each with its reason.
KNOWN_UPWARD: dict[tuple[str, str], str] = {}

#: Slack code that writes storage itself today, (module, storage function), with the reason.
KNOWN_WRITES: dict[tuple[str, str], str] = {}

#: Import circles (their modules, sorted), each with its reason.
KNOWN_CIRCLES: dict[tuple[str, ...], str] = {}


def upward_imports(root: Path = ROOT) -> set[tuple[str, str]]:
    """Every (module, forbidden prefix) pair where a module imports upward.

    And every (module, import) pair where the gateway or storage imports one of our modules
    outside itself.
    """
    found: set[tuple[str, str]] = set()
    for module, path in modules(root).items():
        names = imports(path, root)
        named = imported_names(path, root)  # and names of a face
        for layer, forbidden in FORBIDDEN.items():
            if within(module, layer):
                found.update(
                    (module, prefix)
                    for name in named
                    for prefix in forbidden
                    if within(name, prefix)
                )
        for package in SELF_CONTAINED:
            if within(module, package):
                found.update(
                    (module, name)
                    for name in names
                    if any(within(name, ours) for ours in OURS) and not within(name, package)
                )
    return found


def storage_writes(root: Path = ROOT) -> set[tuple[str, str]]:
    """Every (Slack module, storage function that writes) pair where Slack code writes itself.

    A module writes when it imports or names a writing storage function
    (:func:`tests.layers.storage_writers`), such as one it hands to ``Store.write``.
    """
    storage_writers = writers(root)
    return {
        (module, function)
        for module, path in modules(root, ("handlers",)).items()
        for function in storage_references(path, root) & storage_writers
    }


def outside_the_outbox_steps(found: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """``found`` without the notifier's writes through the outbox (:data:`OUTBOX_STEPS`).

    Nor the campaign reporter's through a campaign's message (:data:`CAMPAIGN_REPORT_STEPS`).
    """
    return {
        (module, function)
        for module, function in found
        if not (module in OUTBOX_STEPS and within(function, OUTBOX))
        and not (
            module in CAMPAIGN_REPORT_STEPS
            and any(within(function, steps) for steps in CAMPAIGN_REPORTS)
        )
    }


def test_no_import_runs_upward() -> None:
    """No module imports from a layer above its own, beyond the exceptions listed here."""
    assert upward_imports() - KNOWN_UPWARD.keys() == set()


def test_faced_packages_are_used_through_their_face() -> None:
    """Outside bot.mobizon and bot.simulator, nothing imports their private modules.

    Tests may, each listed with its reason.
    """
    assert private_imports() - TESTS_BEHIND_A_FACE.keys() == set()
    assert all(within(module, "tests") for module, _ in TESTS_BEHIND_A_FACE)


def test_slack_code_writes_storage_only_through_the_domain() -> None:
    """No handler writes storage itself but the notifier's outbox steps and the listed ones."""
    assert outside_the_outbox_steps(storage_writes()) - KNOWN_WRITES.keys() == set()


def test_no_import_circle() -> None:
    """No module of bot/, handlers/ or storage/ imports itself back, beyond the listed circles."""
    assert circles() - KNOWN_CIRCLES.keys() == set()


def test_known_exceptions_still_exist() -> None:
    """Each listed exception is still real, so the lists shrink as the code is fixed."""
    assert upward_imports() >= KNOWN_UPWARD.keys()
    assert storage_writes() >= KNOWN_WRITES.keys()
    assert circles() >= KNOWN_CIRCLES.keys()
    assert private_imports() >= TESTS_BEHIND_A_FACE.keys()
    # the notifier's exception names modules that really write the outbox
    assert {module for module, function in storage_writes() if within(function, OUTBOX)} >= set(
        OUTBOX_STEPS
    )
    assert {
        module
        for module, function in storage_writes()
        if any(within(function, steps) for steps in CAMPAIGN_REPORTS)
    } >= set(CAMPAIGN_REPORT_STEPS)


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    """The checker flags storage importing Slack code, the domain Slack, the gateway the domain."""
    for folder, source in {
        "storage": "from handlers import blocks\n",
        "storage/deeper": "from ...handlers import notifier\nfrom .. import schema\n",
        "bot/sms/sending": "from slack_sdk.web.async_client import AsyncWebClient\n",
        "bot/mobizon": "import bot.sms.sending.service\nfrom . import types\nfrom bot.mobizon import wire\n",
        "handlers": "",
    }.items():
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "probe.py").write_text(source, encoding="utf-8")
    assert upward_imports(tmp_path) == {
        ("storage.probe", "handlers"),
        ("storage.deeper.probe", "handlers"),
        ("bot.sms.sending.probe", "slack_sdk"),
        ("bot.mobizon.probe", "bot.sms.sending.service"),
    }


def test_an_import_behind_a_face_is_caught(tmp_path: Path) -> None:
    """Importing a faced package's private module is caught from anywhere outside it, not inside."""
    _tree(
        tmp_path,
        {
            "bot/mobizon/__init__.py": "from bot.mobizon._client import Client\n",
            "bot/mobizon/_client.py": "from bot.mobizon._wire import encode\n",
            "bot/mobizon/_wire.py": "def encode(): ...\n",
            "bot/simulator/__init__.py": "from bot.mobizon import Client\n",
            "bot/simulator/_form.py": "",
            "bot/sms/delivery/poller.py": (
                "from bot.mobizon import Client\nfrom bot.mobizon._wire import encode\n"
            ),
            "handlers/find.py": "from bot.mobizon import _client\nimport bot.simulator._form\n",
            "handlers/ok.py": "import bot.mobizon\nfrom bot.simulator import MobizonSimulator\n",
            "tests/test_wire.py": "from bot.mobizon._wire import encode\n",
        },
    )
    assert private_imports(tmp_path) == {
        ("bot.sms.delivery.poller", "bot.mobizon._wire"),
        ("handlers.find", "bot.mobizon._client"),
        ("handlers.find", "bot.simulator._form"),
        ("tests.test_wire", "bot.mobizon._wire"),
    }


def test_a_handler_naming_the_gateway_client_is_caught(tmp_path: Path) -> None:
    """A forbidden name of the gateway's face (client, Protocol) is caught however imported; others pass."""
    _tree(
        tmp_path,
        {
            "bot/mobizon/__init__.py": "",
            "handlers/one.py": "from bot.mobizon import MobizonClient, OutgoingSms\n",
            "handlers/two.py": "from bot.mobizon import MobizonClient as Client\n",
            "handlers/three.py": "from bot.mobizon import SmsGateway\n",
            "handlers/fine.py": "from bot.mobizon import MobizonError, OutgoingSms\n",
        },
    )
    assert upward_imports(tmp_path) == {
        ("handlers.one", "bot.mobizon.MobizonClient"),
        ("handlers.two", "bot.mobizon.MobizonClient"),
        ("handlers.three", "bot.mobizon.SmsGateway"),
    }


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


#: A small storage package: one writer, one reader, writers found through what they call.
_FAKE_STORAGE = {
    "storage/engine.py": (
        "def transactional(fn): return fn\n"
        "def reading(fn): return fn\n"
        "def write_transaction(db): ...\n"
    ),
    "storage/things.py": (
        "from storage.engine import reading, transactional, write_transaction\n"
        "from storage import engine\n"
        "from sqlalchemy import Connection as Database\n"
        "@transactional\ndef put(db, thing): ...\n"
        "@engine.reading\ndef get(db, thing): ...\n"
        "def put_all(db, things):\n    for thing in things: put(db, thing)\n"
        "def settle(db):\n    with write_transaction(db): ...\n"
        "def queue(db: Database, thing): db.execute(thing)\n"
        "def key(thing): return str(thing)\n"
    ),
    "storage/again.py": "from storage.things import put as store_thing, get\n",
    "storage/outbox.py": "from storage.engine import transactional\n@transactional\ndef done(db): ...\n",
}


def test_a_handler_that_writes_storage_is_caught(tmp_path: Path) -> None:
    """Naming a writing storage function, however imported or passed, is a write; reads are not."""
    _tree(
        tmp_path,
        {
            **_FAKE_STORAGE,
            "handlers/reads.py": (
                "from storage import things\nfrom storage.again import get\n"
                "async def show(store):\n"
                "    await store.read(things.get, 1)\n    await store.read(get, 2)\n"
                "    return things.key(3)\n"
            ),
            "handlers/writes.py": (
                "from storage import things\n"
                "async def keep(store):\n    await store.write(things.put, 1)\n"
            ),
            "handlers/reexported.py": "from storage.again import store_thing\n",
            "handlers/deep/inside.py": (
                "import storage.things\n"
                "async def keep(store):\n"
                "    from storage import things as t\n"
                "    await store.write_retrying(storage.things.put_all, [1])\n"
                "    await store.write(t.settle)\n    await store.write(t.queue, 2)\n"
            ),
            "handlers/notifier.py": (
                "from storage import outbox, things\n"
                "async def post(store):\n"
                "    await store.write(outbox.done)\n    await store.write(things.put, 1)\n"
            ),
        },
    )
    assert outside_the_outbox_steps(storage_writes(tmp_path)) == {
        ("handlers.writes", "storage.things.put"),
        ("handlers.reexported", "storage.things.put"),
        ("handlers.deep.inside", "storage.things.put_all"),
        ("handlers.deep.inside", "storage.things.settle"),
        ("handlers.deep.inside", "storage.things.queue"),
        ("handlers.notifier", "storage.things.put"),
    }


def test_a_circle_is_caught(tmp_path: Path) -> None:
    """A circle is found through type-only and deferred imports, and a one-way chain is not."""
    _tree(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/runner.py": "from bot.door import Door\nRUNNER = 1\n",
            "bot/door.py": (
                "from typing import TYPE_CHECKING\nimport bot\n"
                "if TYPE_CHECKING:\n    from bot.runner import RUNNER\n"
            ),
            "handlers/a.py": "from handlers import b\n",
            "handlers/b.py": "from .c import name\n",
            "handlers/c.py": "def name():\n    from handlers.a import thing\n",
            "storage/one.py": "from storage import two\n",
            "storage/two.py": "from storage.three import x\n",
            "storage/three.py": "from storage import x\n",
        },
    )
    assert circles(tmp_path) == {
        ("bot.door", "bot.runner"),
        ("handlers.a", "handlers.b", "handlers.c"),
    }
