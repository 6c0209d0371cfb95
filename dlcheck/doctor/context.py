"""What one doctor run shares between checks: options, and each probe run at most once.

Checks run in threads; several may need the same probe (compat needs gpu, cuda and
frameworks). The first caller runs the probe, the others wait for its result.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from dlcheck.doctor.probes.cuda import CudaProbe, probe_cuda
from dlcheck.doctor.probes.frameworks import FrameworkProbe, probe_frameworks
from dlcheck.doctor.probes.gpu import GpuProbe, probe_gpu
from dlcheck.doctor.probes.host import HostInfo, probe_host
from dlcheck.doctor.probes.libraries import LibrariesProbe, probe_libraries
from dlcheck.doctor.timeouts import FRAMEWORK_IMPORT_S, LIBRARIES_IMPORT_S

T = TypeVar("T")


@dataclass
class Options:
    """How to run the doctor. Every default is the real host; tests inject the rest."""

    root: Path = Path("/")  # where /proc and /sys are read from
    env: dict[str, str] | None = None  # None: os.environ
    python: str | None = None  # interpreter whose frameworks are probed; None: this one
    timeout: float | None = None  # per child probe; None: each probe's own default
    frameworks: bool = True  # False: --no-frameworks
    nvml_lib: ModuleType | None = None  # None: the real pynvml
    train_command: list[str] | None = None  # None: `python -m dlcheck bench --quick --json`
    today: date | None = None  # None: the real date (driver branches' end of life)


class Context:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.env = dict(os.environ) if options.env is None else dict(options.env)
        self.python = options.python or sys.executable
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}

    def timeout(self, default: float) -> float:
        return self.options.timeout if self.options.timeout is not None else default

    def preset(self, key: str, result: Any) -> None:
        """Supply a probe's result instead of running it (recorded data, tests)."""
        future: Future[Any] = Future()
        future.set_result(result)
        with self._lock:
            self._futures[key] = future

    def _memo(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:  # noqa: BLE001 - handed to every waiter
                future.set_exception(exc)
        return future.result()

    def today(self) -> date:
        return self.options.today or date.today()

    def host(self) -> HostInfo:
        return self._memo("host", lambda: probe_host(self.options.root))

    def gpu(self) -> GpuProbe:
        return self._memo("gpu", lambda: probe_gpu(self.options.root, self.options.nvml_lib))

    def cuda(self) -> CudaProbe:
        return self._memo("cuda", lambda: probe_cuda(self.env))

    def libraries(self) -> LibrariesProbe:
        return self._memo(
            "libraries",
            lambda: probe_libraries(self.timeout(LIBRARIES_IMPORT_S), self.python, self.env),
        )

    def frameworks(self) -> dict[str, FrameworkProbe] | None:
        """None under --no-frameworks: checks that need them judge what they can without."""
        if not self.options.frameworks:
            return None
        return self._memo(
            "frameworks",
            lambda: probe_frameworks(self.timeout(FRAMEWORK_IMPORT_S), self.python, self.env),
        )
