"""Per-user locations, following the XDG base directory convention."""

from __future__ import annotations

import os
from pathlib import Path


def data_home() -> Path:
    """Where dlcheck keeps per-user data: $XDG_DATA_HOME/dlcheck (~/.local/share/dlcheck)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "dlcheck"


def models_dir() -> Path:
    """Models saved by `dlcheck bench --save` are also copied here."""
    return data_home() / "models"


def last_model_path() -> Path:
    """The model `dlcheck draw`/`predict` use when none is given."""
    return models_dir() / "last.keras"
