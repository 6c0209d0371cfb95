"""The layering of dlcheck, read from the imports in its source (ast), and from a real import.

- dlcheck/host is the ground layer: it imports no feature (doctor, bench, draw, report, cli).
- A check judges facts: no module under doctor/checks imports another check module.
- No two modules of dlcheck import each other, directly or round a longer circle.
- The CLI imports no framework when it starts: `dlcheck --help` stays fast.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dlcheck"
FEATURES = ("doctor", "bench", "draw", "report", "cli")
FRAMEWORKS = ("tensorflow", "torch", "jax", "keras")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_statements(path: Path) -> list[tuple[str, list[str]]]:
    """Each import in `path`, anywhere in it (lazy imports in functions too), as
    (module, names): `import a.b` is ("a.b", []), `from a import b, c` is ("a", ["b", "c"]),
    a relative import resolved against this module's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = (package or module_name(path)).split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            found.append((base, [alias.name for alias in node.names]))
    return found


def in_dlcheck(name: str) -> bool:
    return name == "dlcheck" or name.startswith("dlcheck.")


def imports(path: Path) -> set[str]:
    """Every dlcheck name `path` imports: modules, and `module.name` for each from-import."""
    found: set[str] = set()
    for base, names in import_statements(path):
        found.add(base)
        found.update(f"{base}.{name}" for name in names)
    return {name for name in found if in_dlcheck(name)}


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The modules among `modules` that `path` imports: `from pkg import mod` is an edge to
    pkg.mod alone (pkg/__init__ runs first anyway, as for any submodule), `from mod import
    name` an edge to mod, `from pkg import mod, name` both."""
    found: set[str] = set()
    for base, names in import_statements(path):
        submodules = {f"{base}.{name}" for name in names} & modules
        found |= submodules
        if len(submodules) < len(names) or not names:
            found.add(base)
    return found & modules


def sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("host"), ids=lambda p: p.name)
def test_the_ground_layer_imports_no_feature(path):
    features = {f"dlcheck.{f}" for f in FEATURES}
    bad = {name for name in imports(path) if any(name.startswith(f) for f in features)}
    assert not bad, f"{path.name} reaches up into {sorted(bad)}"


#: Not checks: the registry (the package), and the helpers every check builds its result with.
NOT_CHECKS = ("__init__.py", "result.py")
CHECKS = [p for p in sources("doctor/checks") if p.name not in NOT_CHECKS]


@pytest.mark.parametrize("path", CHECKS, ids=lambda p: p.name)
def test_a_check_imports_no_other_check(path):
    others = {f"dlcheck.doctor.checks.{p.stem}" for p in CHECKS} - {module_name(path)}
    bad = imports(path) & others
    assert not bad, f"checks/{path.name} imports {sorted(bad)}: share a probe's fact instead"


def test_the_layer_test_sees_a_violation(tmp_path, monkeypatch):
    # The reader above must not pass by seeing nothing: a lazy, relative import counts.
    fake = tmp_path / "dlcheck" / "host" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..doctor import runner\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "dlcheck")
    assert "dlcheck.doctor.runner" in imports(fake)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports (a module's import of itself left out)."""
    paths = {module_name(p): p for p in sorted(package.rglob("*.py"))}
    return {name: imported_modules(p, set(paths)) - {name} for name, p in paths.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest circle (a, b, ..., a) through each group of modules that import each
    other; [] when the imports go one way only."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while (top := stack.pop()) != node:
                group.add(top)
            groups.append(group | {node})

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [shortest_circle(graph, group) for group in groups if len(group) > 1]


def shortest_circle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    for node in queue:  # breadth first: the queue grows while it is read
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"{sorted(group)} is not a circle")  # a component always is


def test_no_two_modules_import_each_other():
    cycles = import_cycles(import_graph(PACKAGE))
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_test_sees_a_circle(tmp_path, monkeypatch):
    # A circle of three through a lazy, relative import; a package and a submodule that
    # imports a name back from it (a circle too); one-way imports around them, and a
    # package importing a submodule that does not import it back (no circle).
    root = tmp_path / "dlcheck"
    for rel, text in {
        "__init__.py": "",
        "a.py": "from dlcheck import b\n",
        "b.py": "from dlcheck.c import f\n",
        "c.py": "def f():\n    from . import a\n",
        "d.py": "import dlcheck.a\nfrom dlcheck import pkg, __version__\n",
        "pkg/__init__.py": "from dlcheck.pkg import e, f\n",
        "pkg/e.py": "from dlcheck.pkg import __doc__\n",
        "pkg/f.py": "",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", root)
    graph = import_graph(root)
    assert graph["dlcheck.d"] == {"dlcheck", "dlcheck.a", "dlcheck.pkg"}
    assert graph["dlcheck.c"] == {"dlcheck.a"}
    assert import_cycles(graph) == [
        ["dlcheck.a", "dlcheck.b", "dlcheck.c", "dlcheck.a"],
        ["dlcheck.pkg", "dlcheck.pkg.e", "dlcheck.pkg"],
    ]


def test_the_cli_imports_no_framework_at_start():
    code = (
        "import sys, dlcheck.cli\n"
        f"loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
