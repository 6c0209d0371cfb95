"""The layering of dlcheck, read from the imports in its source (ast), and from a real import.

- dlcheck/host is the ground layer: it imports no feature (doctor, bench, draw, report, cli).
- A check judges facts: no module under doctor/checks imports another check module.
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


def imports(path: Path) -> set[str]:
    """Every dlcheck module `path` imports, anywhere in it (lazy imports in functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = (package or module_name(path)).split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "dlcheck" or name.startswith("dlcheck.")}


def sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("host"), ids=lambda p: p.name)
def test_the_ground_layer_imports_no_feature(path):
    features = {f"dlcheck.{f}" for f in FEATURES}
    bad = {name for name in imports(path) if any(name.startswith(f) for f in features)}
    assert not bad, f"{path.name} reaches up into {sorted(bad)}"


CHECKS = [p for p in sources("doctor/checks") if p.name != "__init__.py"]


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


def test_the_cli_imports_no_framework_at_start():
    code = (
        "import sys, dlcheck.cli\n"
        f"loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
