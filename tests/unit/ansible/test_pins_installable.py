"""pins_installable.py's reading of a wheel's CUDA build from pip's install report."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "roles/frameworks/files/pins_installable.py"
spec = importlib.util.spec_from_file_location("pins_installable", SCRIPT)
pins = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pins)


def report(name: str, requires: list[str]) -> dict:
    return {"install": [{"metadata": {"name": name, "requires_dist": requires}}]}


def test_torch_from_pypi_names_cuda_13() -> None:
    # Lines of PyPI's torch 2.15.0 metadata, as `pip install --dry-run --report` gave them.
    torch = report(
        "torch",
        [
            "filelock",
            'cuda-toolkit[cublas,cudart,cufft]==13.2.2; platform_system == "Linux"',
            'nvidia-cudnn-cu13==9.26.0.51; platform_system == "Linux"',
        ],
    )
    assert pins.cuda_majors(torch) == {"torch": "13"}


def test_a_cuda_12_index_build_and_a_cpu_wheel() -> None:
    cu126 = report("torch", ['nvidia-cuda-runtime-cu12==12.6.77; platform_system == "Linux"'])
    assert pins.cuda_majors(cu126) == {"torch": "12"}
    assert pins.cuda_majors(report("keras", ["numpy", "h5py"])) == {}


def test_requirements_behind_an_extra_are_not_what_a_pin_installs() -> None:
    tensorflow = report("tensorflow", ['nvidia-cublas-cu12==12.5.3.2; extra == "and-cuda"'])
    assert pins.cuda_majors(tensorflow) == {}
    assert pins.cuda_majors({}) == {}
