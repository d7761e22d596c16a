"""Reading the code of ``bot/``, ``handlers/`` and ``storage/`` for the layer rules (ast only).

What :mod:`tests.test_layers` checks is built here from the source, without importing it:

- :func:`imports`: every module a file imports (wherever the import stands);
- :func:`imported_names`: every name a file imports, as an absolute dotted name;
- :func:`private_imports`: imports of a faced package's private modules from outside it;
- :func:`circles`: the import circles between our modules;
- :func:`storage_writers`: the storage functions that write, from their decorators;
- :func:`storage_references`: the storage functions a module names.
"""

from __future__ import annotations

import ast
import functools
import gc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The packages whose modules the rules look at.
PACKAGES = ("bot", "handlers", "storage")
#: Our top-level packages: an import of one of these is an import of ours.
OURS = ("bot", "handlers", "storage", "testkit")

#: The packages with one public face (their ``__init__``) over private modules.
FACES = ("bot.mobizon", "bot.simulator")
#: Every folder of ours whose code may import a faced package: the face rule reads them all.
EVERYWHERE = ("bot", "handlers", "storage", "testkit", "tests", "bench", "scripts")

#: The decorators that say what a storage function does (:mod:`storage.engine`).
TRANSACTIONAL = "storage.engine.transactional"
READING = "storage.engine.reading"
#: Opening this context manager writes, as calling a ``@transactional`` function does.
WRITE_TRANSACTION = "storage.engine.write_transaction"
#: How a storage function's first parameter (the connection) is annotated.
CONNECTION_TYPES = frozenset({"Database", "Connection"})


def within(name: str, prefix: str) -> bool:
    """True when ``name`` is the module (or name) ``prefix`` or lies inside it."""
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path, root: Path = ROOT) -> str:
    """The dotted name of the module at ``path`` (a package's ``__init__`` is the package)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name."""
    return {
        module_name(path, root): path
        for folder in packages
        if (root / folder).is_dir()
        for path in sorted((root / folder).rglob("*.py"))
    }


def _parse(path: Path) -> ast.Module:
    """The syntax tree of ``path``, made with the garbage collector paused.

    A tree is tens of thousands of new objects, none of them garbage, and the passes they set
    off cost more than the parsing itself. No tree is kept: what the rules need of a file is
    worked out once (:func:`_imports_of`, :func:`storage_references`), and a process that kept
    every tree would walk them all again at each full pass until it ends.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    finally:
        if paused:
            gc.enable()


def _import_statements(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree``, in blocks at any depth; expressions are not entered."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        for child in getattr(tree, field, ()):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            else:
                yield from _import_statements(child)


def _package(path: Path, root: Path) -> list[str]:
    """The package a relative import in ``path`` starts from."""
    parts = module_name(path, root).split(".")
    return parts if path.name == "__init__.py" else parts[:-1]


def _import_targets(node: ast.Import | ast.ImportFrom, package: list[str]) -> Iterator[str]:
    """The absolute dotted name of each thing one import statement brings in, in order.

    ``from a.b import c`` gives ``a.b.c`` (a module or a name in ``a.b``); ``import a.b`` gives
    ``a.b``; relative imports are resolved against ``package``.
    """
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = package[: len(package) - (node.level - 1)] if node.level else []
    start = ".".join([*base, node.module] if node.module else base)
    yield from (f"{start}.{alias.name}" for alias in node.names)


@functools.cache
def _known(root: Path) -> frozenset[str]:
    return frozenset(modules(root, OURS))


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """The modules ``path`` imports, relative imports resolved against its package.

    ``from a.b import c`` imports ``a.b.c`` when that is one of our modules, else ``a.b`` (``c``
    is a name in it); ``import a.b`` imports ``a.b``. Every import statement counts: at module
    level, inside a function and under ``if TYPE_CHECKING:``.
    """
    return set(_imports_of(path, root)[0])


@functools.cache
def _imports_of(path: Path, root: Path) -> tuple[frozenset[str], dict[str, str]]:
    """:func:`imports` and :func:`_namespace` of ``path``, worked out once a file.

    The files do not change while tests run, and the rules ask for each file's several times.
    Never changed: the functions that give them give copies.
    """
    known = _known(root)
    package = _package(path, root)
    found: set[str] = set()
    names: dict[str, str] = {}
    for node in _import_statements(_parse(path)):
        if isinstance(node, ast.Import):
            found.update(_import_targets(node, package))
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:  # ``import a.b`` binds ``a``
                    top = alias.name.partition(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom):
            targets = list(_import_targets(node, package))
            for target in targets:
                found.add(target if target in known else target.rpartition(".")[0])
            for alias, target in zip(node.names, targets, strict=True):
                names[alias.asname or alias.name] = target
    return frozenset(found), names


def imported_names(path: Path, root: Path = ROOT) -> set[str]:
    """Every name ``path`` imports, absolute: ``from a.b import c`` gives ``a.b.c``.

    Unlike :func:`imports`, a name that is not a module (a class, a constant) is kept whole, so
    a rule can forbid one name of a package's face.
    """
    return set(_namespace(path, root).values()) | imports(path, root)


def private_imports(root: Path = ROOT, faces: tuple[str, ...] = FACES) -> set[tuple[str, str]]:
    """Every (module, private module) pair where code outside a faced package imports past it.

    A package of :data:`FACES` is used through its ``__init__`` only: from outside it, importing
    any of its modules (``from bot.mobizon._client import X``, ``from bot.mobizon import
    _client``, ``import bot.simulator._form``) is reaching behind the face. Its own modules import
    each other freely.
    """
    found: set[tuple[str, str]] = set()
    for module, path in modules(root, EVERYWHERE).items():
        for face in faces:
            if within(module, face):
                continue
            found.update(
                (module, name)
                for name in imports(path, root)
                if within(name, face) and name != face
            )
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Which of our modules in ``bot``, ``handlers`` and ``storage`` each of them imports.

    Arrows are :func:`imports`, kept when they reach one of these modules other than the
    importer. Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``; those implicit
    arrows to parent packages are left out (a package that re-exports its own modules would
    otherwise be a circle with each of them); an explicit ``from a import x`` names ``a`` and
    counts.

    Every import counts, wherever it stands: at module level, inside a function (a deferred
    import is how a circle is hidden, not how it is broken) and under ``if TYPE_CHECKING:``
    (a type-only import is still a module depending on another: the runtime's circle with
    Socket Mode closed only through one, before the runtime described the connection it needs
    with a Protocol of its own).
    """
    graph = {name: imports(path, root) for name, path in modules(root).items()}
    return {
        name: {target for target in found if target in graph and target != name}
        for name, found in graph.items()
    }


def circles(root: Path = ROOT) -> set[tuple[str, ...]]:
    """Each set of our modules that import each other in a circle, as a sorted tuple.

    The strongly connected components of :func:`import_graph` with more than one module
    (Tarjan's algorithm): a module is in one exactly when an import path leads from it back
    to itself.
    """
    graph = import_graph(root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.add(tuple(sorted(component)))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _namespace(path: Path, root: Path) -> dict[str, str]:
    """What each name imported anywhere in ``path`` stands for, as an absolute dotted name."""
    return dict(_imports_of(path, root)[1])


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _references(tree: ast.AST, namespace: dict[str, str], local: dict[str, str]) -> set[str]:
    """The absolute dotted names ``tree`` uses: names and attribute chains, resolved.

    ``outbox.mark_step_done`` with ``from storage import outbox`` is
    ``storage.outbox.mark_step_done``; a name defined in the module itself resolves through
    ``local``. Each prefix of a chain is a reference too.
    """
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name | ast.Attribute):
            continue
        dotted = _dotted(node)
        if dotted is None:
            continue
        head, _, rest = dotted.partition(".")
        base = local.get(head) or namespace.get(head)
        if base is not None:
            found.add(f"{base}.{rest}" if rest else base)
    return found


class _Storage:
    """The top-level functions of every storage module, and what each name stands for."""

    def __init__(self, root: Path) -> None:
        self.functions: dict[str, ast.FunctionDef] = {}
        self.namespaces: dict[str, dict[str, str]] = {}
        self.locals: dict[str, dict[str, str]] = {}
        for name, path in modules(root, ("storage",)).items():
            tree = _parse(path)
            self.namespaces[name] = _namespace(path, root)
            defined = {
                node.name: node
                for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
            }
            self.locals[name] = {local: f"{name}.{local}" for local in defined}
            for local, node in defined.items():
                if isinstance(node, ast.FunctionDef):
                    self.functions[f"{name}.{local}"] = node

    def resolve(self, dotted: str) -> str:
        """Follow re-exports: ``storage.store.is_busy`` is ``storage.engine.is_busy``."""
        seen: set[str] = set()
        while dotted not in seen:
            seen.add(dotted)
            module, _, name = dotted.rpartition(".")
            target = self.namespaces.get(module, {}).get(name)
            if target is None or name in self.locals.get(module, {}):
                return dotted
            dotted = target
        return dotted

    def decorators(self, qualified: str) -> set[str]:
        module = qualified.rpartition(".")[0]
        found: set[str] = set()
        for decorator in self.functions[qualified].decorator_list:
            dotted = _dotted(decorator)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            base = self.locals[module].get(head) or self.namespaces[module].get(head, head)
            found.add(self.resolve(f"{base}.{rest}" if rest else base))
        return found

    def calls(self, qualified: str) -> set[str]:
        """The storage names the function's body uses, re-exports followed."""
        module = qualified.rpartition(".")[0]
        function = self.functions[qualified]
        body = ast.Module(body=function.body, type_ignores=[])
        used = _references(body, self.namespaces[module], self.locals[module])
        return {self.resolve(name) for name in used if within(name, "storage")}


def _public(qualified: str) -> bool:
    return not qualified.rpartition(".")[2].startswith("_")


def _takes_connection(function: ast.FunctionDef) -> bool:
    arguments = [*function.args.posonlyargs, *function.args.args]
    if not arguments or arguments[0].annotation is None:
        return False
    annotation = _dotted(arguments[0].annotation)
    return annotation is not None and annotation.rpartition(".")[2] in CONNECTION_TYPES


@functools.cache
def _storage(root: Path) -> _Storage:
    return _Storage(root)


def storage_writers(root: Path = ROOT) -> set[str]:
    """The storage functions that write, as ``storage.module.function``.

    A function writes when it is decorated ``@transactional``, opens ``write_transaction``, or
    calls a function that writes; one decorated ``@reading`` only reads. A public function that
    takes the connection and is marked neither way counts as writing: nothing says it only
    reads (:func:`storage.outbox_queue.queue_statuses` inserts in its caller's transaction).
    Private helpers are judged by the functions that call them.
    """
    storage = _storage(root)
    writers = {WRITE_TRANSACTION}
    readers: set[str] = set()
    for qualified, function in storage.functions.items():
        marks = storage.decorators(qualified)
        if READING in marks:
            readers.add(qualified)
        elif TRANSACTIONAL in marks or (_public(qualified) and _takes_connection(function)):
            writers.add(qualified)
    calls = {name: storage.calls(name) for name in storage.functions}
    grew = True
    while grew:
        grew = False
        for qualified, used in calls.items():
            if qualified not in writers and qualified not in readers and used & writers:
                writers.add(qualified)
                grew = True
    return writers


def storage_references(path: Path, root: Path = ROOT) -> set[str]:
    """The storage names the module at ``path`` imports or uses, re-exports followed.

    Importing a function counts as using it, and so does passing it to ``Store.write``
    (``store.write(outbox.mark_step_done, …)`` names ``storage.outbox.mark_step_done``).
    """
    return set(_storage_references(path, root))


@functools.cache
def _storage_references(path: Path, root: Path) -> frozenset[str]:
    """:func:`storage_references`, worked out once a file."""
    storage = _storage(root)
    namespace = _namespace(path, root)
    named = set(namespace.values()) | _references(_parse(path), namespace, {})
    return frozenset(storage.resolve(name) for name in named if within(name, "storage"))
