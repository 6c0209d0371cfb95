"""A small validator for the report documents `dlcheck report` reads.

jsonschema is not a dependency, and the contracts are small: each known schema
lists its required fields and their JSON types. Unknown extra fields are
allowed (a newer doctor may add facts); a newer `schema_version` is not,
because its meaning may have changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlcheck.shared import BENCH_SCHEMA as BENCH
from dlcheck.shared import DOCTOR_SCHEMA as DOCTOR

# What verify.yml writes for a host it could not run the doctor on.
STUB = "dlcheck.verify-stub"

#: newest schema_version this dlcheck understands, per schema
SUPPORTED: dict[str, int] = {DOCTOR: 1, BENCH: 1, STUB: 1}

STUB_STATUSES = ("unreachable", "missing", "error")
CHECK_STATUSES = ("skip", "ok", "warn", "fail", "error")

_NUM = (int, float)
_OPT_STR = (str, type(None))

# field -> (accepted Python types, required). A nested dict spec validates a dict value;
# a one-element list spec validates every item of a list value.
Spec = dict[str, Any]

_FINDING: Spec = {
    "status": (str, True),
    "code": (str, True),
    "message": (str, True),
    "hint": (_OPT_STR, False),
}
_CHECK: Spec = {
    "name": (str, True),
    "title": (str, False),
    "status": (str, True),
    "summary": (_OPT_STR, False),
    "findings": ([_FINDING], False),
    "facts": ((dict, type(None)), False),
    "duration_s": (_NUM, False),
}
#: every document opens with these: validate() reads them first, to pick the spec
_ENVELOPE: Spec = {
    "schema": (str, True),
    "schema_version": (int, True),
}
_DOCTOR: Spec = {
    **_ENVELOPE,
    "dlcheck_version": (str, False),
    "created": (str, True),
    "host": ({"hostname": (str, True), "redacted": (bool, False)}, True),
    "status": (str, True),
    "counts": (dict, False),
    "duration_s": (_NUM, False),
    "checks": ([_CHECK], True),
}
_BENCH: Spec = {
    **_ENVELOPE,
    "hostname": (str, True),
    "created": (str, True),
    "status": (str, False),
    "backend": (_OPT_STR, False),
    "model": (_OPT_STR, False),
    "device": ((dict, type(None)), False),
    "throughput": ((dict, type(None)), False),
    "test": ((dict, type(None)), False),
    "folds": ((dict, type(None)), False),
}
_STUB: Spec = {
    **_ENVELOPE,
    "created": (str, True),
    "host": ({"hostname": (str, True)}, True),
    "status": (str, True),
    "message": (_OPT_STR, False),
}
_SPECS: dict[str, Spec] = {DOCTOR: _DOCTOR, BENCH: _BENCH, STUB: _STUB}


class SchemaError(ValueError):
    """The document does not follow a schema this dlcheck knows."""


@dataclass(frozen=True)
class Validated:
    schema: str
    doc: dict[str, Any]


def validate(doc: Any) -> Validated:
    """Check `doc` against its declared schema; raise SchemaError naming the first problem."""
    if not isinstance(doc, dict):
        raise SchemaError(f"expected a JSON object, found {_json_type(doc)}")
    schema = doc.get("schema")
    if schema not in _SPECS:
        known = ", ".join(sorted(_SPECS))
        raise SchemaError(f"unknown schema {schema!r} (known: {known})")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SchemaError(f"{schema}: schema_version must be an integer, found {version!r}")
    newest = SUPPORTED[schema]
    if version > newest or version < 1:
        raise SchemaError(
            f"{schema} schema_version {version} is not supported (this dlcheck reads up to "
            f"{newest}); upgrade dlcheck on the machine that runs `dlcheck report`"
        )
    _check(doc, _SPECS[schema], "")
    if schema == DOCTOR:
        for i, check in enumerate(doc["checks"]):
            if check["status"] not in CHECK_STATUSES:
                raise SchemaError(f"checks[{i}].status: unknown status {check['status']!r}")
    if schema == STUB and doc["status"] not in STUB_STATUSES:
        raise SchemaError(f"status: expected one of {STUB_STATUSES}, found {doc['status']!r}")
    return Validated(schema=schema, doc=doc)


def _check(value: dict[str, Any], spec: Spec, where: str) -> None:
    for key, (kind, required) in spec.items():
        path = f"{where}.{key}" if where else key
        if key not in value:
            if required:
                raise SchemaError(f"{path}: required field is missing")
            continue
        item = value[key]
        if isinstance(kind, dict):
            if not isinstance(item, dict):
                raise SchemaError(f"{path}: expected an object, found {_json_type(item)}")
            _check(item, kind, path)
        elif isinstance(kind, list):
            if not isinstance(item, list):
                raise SchemaError(f"{path}: expected a list, found {_json_type(item)}")
            for i, element in enumerate(item):
                if not isinstance(element, dict):
                    found = _json_type(element)
                    raise SchemaError(f"{path}[{i}]: expected an object, found {found}")
                _check(element, kind[0], f"{path}[{i}]")
        elif not isinstance(item, kind) or (isinstance(item, bool) and bool not in _as_tuple(kind)):
            raise SchemaError(f"{path}: expected {_type_names(kind)}, found {_json_type(item)}")


def _as_tuple(kind: Any) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _type_names(kind: Any) -> str:
    names = dict.fromkeys(_PY_TO_JSON.get(t, t.__name__) for t in _as_tuple(kind))
    return " or ".join(names)


_PY_TO_JSON = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true/false",
    dict: "an object",
    list: "a list",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _PY_TO_JSON.get(type(value), type(value).__name__)
