"""Facts that several parts of dlcheck share, each defined here once.

Plain data, no imports: the ground layer and every feature may read it.
"""

from __future__ import annotations

#: The JSON documents' schema names (docs/doctor-schema.md, docs/bench-schema.md).
DOCTOR_SCHEMA = "dlcheck.doctor"
BENCH_SCHEMA = "dlcheck.bench"

#: One mark per check status, for the doctor's lines and the fleet table alike.
STATUS_MARKS = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-", "error": "‽"}
#: The same where the terminal cannot show those characters.
ASCII_STATUS_MARKS = {"ok": "+", "warn": "!", "fail": "x", "skip": "-", "error": "?"}

#: Keras 3 backends the bench trains with, in `--backend auto`'s order: TensorFlow first,
#: the engine the guide and the provisioned stack use (JAX is faster on a CPU, docs/bench.md).
BACKENDS = ("tensorflow", "jax", "torch")
#: The pip extra of dlcheck that installs each framework (pyproject.toml).
EXTRAS = {"tensorflow": "tf", "keras": "tf", "jax": "jax", "torch": "torch"}
