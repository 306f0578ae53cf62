"""The package's parts import downwards only, and no two modules import each other in a circle.

Every import counts: at the top of a module, inside a function (the hot path imports lazily),
and under TYPE_CHECKING. From the bottom up:

    foundation  huddle, vocab, log, display     import nothing of huddle
    store, shell                                 the state directory; reading shell lines
    repo                                         where a directory sits in git
    peers                                        who is here, and alive
    talk, edits, plugin                          what sessions are told; edit awareness; the
                                                 installed plugin around the package
    handlers, companion                          one module per hook event; the process
                                                 that wakes an idle session
    cli                                          one module per verb
    mcp_server                                   the verbs as MCP tools
    __main__                                     `python -m huddle`

A part may use the parts below it and its own modules, never a part beside it or above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

RANKS = {
    "huddle": 0,
    "huddle.vocab": 0,
    "huddle.log": 0,
    "huddle.display": 0,
    "huddle.store": 1,
    "huddle.shell": 1,
    "huddle.repo": 2,
    "huddle.peers": 3,
    "huddle.talk": 4,
    "huddle.edits": 4,
    "huddle.plugin": 4,
    "huddle.handlers": 5,
    "huddle.companion": 5,
    "huddle.cli": 6,
    "huddle.mcp_server": 7,
    "huddle.__main__": 8,
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "huddle").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = modules()


def part_of(module: str) -> str:
    """The part a module belongs to: the longest prefix in RANKS."""
    while module not in RANKS:
        if "." not in module:
            raise AssertionError(f"{module} belongs to no part: add it to RANKS and the docstring")
        module = module.rsplit(".", 1)[0]
    return module


def imports_of(module: str) -> set[str]:
    """The huddle modules `module` imports, anywhere in its text."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in MODULES
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found.update(name for name in names if name == "huddle" or name.startswith("huddle."))
    found.discard(module)
    return found


def test_every_module_belongs_to_a_part() -> None:
    assert len(MODULES) > 40
    for module in MODULES:
        part_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_part_and_those_below(module: str) -> None:
    mine = part_of(module)
    for imported in sorted(imports_of(module)):
        assert imported in MODULES, f"{module} imports {imported}, which does not exist"
        theirs = part_of(imported)
        if theirs == mine:
            continue
        assert RANKS[theirs] < RANKS[mine], (
            f"{module} ({mine}, rank {RANKS[mine]}) imports {imported} "
            f"({theirs}, rank {RANKS[theirs]}): parts import downwards only"
        )


def test_no_import_circles() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    # A package's __init__ is imported with each of its modules; that is not a circle.
    for module, imported in graph.items():
        graph[module] = {i for i in imported if not module.startswith(i + ".")}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            circle = path[path.index(module) :] + [module]
            raise AssertionError("import circle: " + " -> ".join(circle))
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_walk_sees_lazy_and_type_only_imports() -> None:
    """The checks above would pass vacuously if imports inside functions went unseen."""
    assert "huddle.edits.git_guard" in imports_of("huddle.handlers.pre_tool_use")  # lazy
    assert "huddle.handlers.context" in imports_of("huddle.handlers.pre_tool_use")  # type-only
    assert "huddle.store.tidy" in imports_of("huddle.store.leases")  # lazy, inside the part


def test_no_two_classes_share_a_name() -> None:
    seen: dict[str, str] = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                assert node.name not in seen, (
                    f"class {node.name} is defined in {seen[node.name]} and in {module}"
                )
                seen[node.name] = module
