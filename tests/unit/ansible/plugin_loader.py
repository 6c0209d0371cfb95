"""Load one of the collection's plugin files (plugins/) as a plain module, to test its functions."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[3]


def load_plugin(relative: str) -> ModuleType:
    """The module at REPO/`relative` (e.g. plugins/filter/redact.py)."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
