"""The compatibility table (compat.json) and the version arithmetic to read it.

The rules that judge a host against it are in rules.py.

The same JSON file is loaded by the Ansible roles (include_vars), so pins and
verdicts come from one source.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

Version = tuple[int, ...]


def parse_version(text: str | None) -> Version | None:
    """'535.54.03' -> (535, 54, 3); '2.21.0rc1' -> (2, 21, 0); junk -> None."""
    if not text:
        return None
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(text))
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def version_at_least(actual: str | None, floor: str) -> bool | None:
    """True/False when both parse, None when `actual` is unknown."""
    have, need = parse_version(actual), parse_version(floor)
    if have is None or need is None:
        return None
    width = max(len(have), len(need))
    return have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need))


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    """The parsed compat.json shipped inside the package."""
    text = resources.files(__package__).joinpath("compat.json").read_text(encoding="utf-8")
    return json.loads(text)


def tensorflow_build(tf_version: str) -> dict[str, Any] | None:
    """The build row of a TensorFlow version ('2.19.0' -> the 2.18-2.19 row)."""
    version = parse_version(tf_version)
    if not version or len(version) < 2:
        return None
    return row_listing(table()["tensorflow"]["builds"], "versions", f"{version[0]}.{version[1]}")


def row_listing(rows: list[dict[str, Any]], field: str, item: str) -> dict[str, Any] | None:
    """The first of a table's rows whose list `field` holds item, or None."""
    return next((row for row in rows if item in row[field]), None)


def cuda_version_from_int(value: int | None) -> str | None:
    """NVML/CUDA integer form to text: 12080 -> '12.8', 11020 -> '11.2'."""
    if value is None or value <= 0:
        return None
    return f"{value // 1000}.{(value % 1000) // 10}"


def major_minor(text: str | None) -> tuple[int, int] | None:
    """'12.5.82' -> (12, 5); '13' -> (13, 0); junk -> None."""
    version = parse_version(text)
    if not version:
        return None
    return (version[0], version[1] if len(version) > 1 else 0)
