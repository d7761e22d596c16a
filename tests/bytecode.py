"""Compile the product and the tests once, before xdist's workers start, so no worker has to.

With PYTHONDONTWRITEBYTECODE set (and in a fresh clone) no bytecode is cached: each worker
would rewrite the asserts of every test module itself, and each ``smsbot`` process a test
starts would compile the product from source. Python and pytest read a valid cached pyc even
when told not to write one, so the controller writes them once here.
"""

from __future__ import annotations

import compileall
import functools
import importlib
import os
import sys
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The product's packages: imported by every worker and by every ``smsbot`` subprocess.
PRODUCT = ("bot", "handlers", "storage", "testkit")

#: What test modules import from the pytest plugins' packages, which pytest rewrites too.
PLUGIN_IMPORTS = ("hypothesis", "hypothesis.strategies")


def precompile(config: pytest.Config) -> None:
    """Write the product's pycs and the tests' pycs (rewritten as pytest rewrites them).

    In a fresh clone that is a few CPU-seconds, before any worker starts: the files are shared
    between this process and one forked child, so both cores compile.
    """
    patterns = [str(pattern) for pattern in config.getini("python_files")]
    rewrite = config.getoption("assertmode") == "rewrite"
    jobs: list[Callable[[], object]] = [
        functools.partial(compileall.compile_file, path, quiet=1)
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
    ]
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "conftest.py" or any(fnmatch(path.name, p) for p in patterns):
            if rewrite:
                jobs.append(functools.partial(_write_rewritten, path, config))
        else:
            jobs.append(functools.partial(compileall.compile_file, path, quiet=1))
    _on_two_cores(jobs)
    if rewrite:
        _write_plugins(config)


def _on_two_cores(jobs: list[Callable[[], object]]) -> None:
    """Run every other job in a forked child and the rest here; return when all are done.

    Each job writes one file of its own, so the two halves never meet. Where forking is not
    offered (or a multi-threaded fork is frowned upon, Python 3.12 on), all run here.
    """
    if not hasattr(os, "fork") or sys.version_info >= (3, 12):
        for job in jobs:
            job()
        return
    child = os.fork()
    if child == 0:  # the child: its half, then out at once (no atexit, no pytest teardown)
        try:
            for job in jobs[1::2]:
                job()
        finally:
            os._exit(0)
    for job in jobs[::2]:
        job()
    os.waitpid(child, 0)


def _write_plugins(config: pytest.Config) -> None:
    """Write the rewritten pycs of the plugins' modules, which each worker would rewrite too.

    The plugins this process loaded were rewritten as they were imported; what the tests import
    from their packages is imported here, with bytecode writing on, so pytest caches it itself.
    Internal API, as in ``_write_rewritten``: without it, nothing is written.
    """
    try:
        from _pytest.assertion.rewrite import assertstate_key  # noqa: PLC0415

        hook = config.stash[assertstate_key].hook
        rewritten = [] if hook is None else list(hook._rewritten_names.values())
    except (ImportError, AttributeError, KeyError):
        return
    for path in rewritten:
        if not path.is_relative_to(ROOT / "tests"):
            _write_rewritten(path, config)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        for name in PLUGIN_IMPORTS:
            importlib.import_module(name)
    finally:
        sys.dont_write_bytecode = dont_write


def _write_rewritten(path: Path, config: pytest.Config) -> None:
    """Write the pyc of ``path`` with its asserts rewritten, where pytest's import hook reads it.

    This uses pytest internals: should a pytest lack them (ImportError, AttributeError) or the
    write fail, nothing is written and the worker importing the module rewrites it, as it would
    without this cache (slower, never wrong; pytest checks a cached pyc against the source).
    """
    try:
        from _pytest.assertion.rewrite import (  # noqa: PLC0415
            PYC_TAIL,
            _read_pyc,
            _rewrite_test,
            _write_pyc,
            assertstate_key,
            get_cache_dir,
        )

        cache_dir = get_cache_dir(path)
        pyc = cache_dir / (path.name[:-3] + PYC_TAIL)
        if _read_pyc(path, pyc) is not None:
            return  # written before, and its source is unchanged
        cache_dir.mkdir(parents=True, exist_ok=True)
        source_hash, code = _rewrite_test(path, config)
        _write_pyc(config.stash[assertstate_key], code, source_hash, pyc)
    except (ImportError, AttributeError, KeyError, OSError, SyntaxError):
        return
