"""The real Prometheus tools the metrics tests run: node_exporter and promtool.

Both come from Debian (tests/apt-packages.txt: prometheus-node-exporter, prometheus),
which tests/run.sh installs, so the tests run rather than skip.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from children import stop
from click.testing import CliRunner
from doctor_fakes import H100

from dlcheck.cli import main
from dlcheck.doctor import metrics
from dlcheck.host import nvml

NODE_EXPORTER = "prometheus-node-exporter"  # Debian's name for node_exporter
PROMTOOL = "promtool"

# One sample line of the text format: name, optional {labels}, value.
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed: apt-get install it (tests/apt-packages.txt)"
    return path


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Samples by metric name, label values unescaped. Raises on a line it cannot read."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, body, value = match.groups()
        labels = {}
        if body:
            pairs = _LABEL.findall(body)
            assert "".join(f'{k}="{v}",' for k, v in pairs).rstrip(",") == body.rstrip(","), line
            labels = {k: re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m[0]], v) for k, v in pairs}
        out.setdefault(name, []).append((labels, float(value)))
    return out


def value(samples: dict, metric: str, /, **labels: str) -> float:
    """The one sample of `metric` whose labels include `labels`."""
    rows = samples.get(metric, [])
    found = [v for lab, v in rows if all(lab.get(k) == w for k, w in labels.items())]
    assert len(found) == 1, f"{metric}{labels}: {len(found)} samples in {rows}"
    return found[0]


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool(PROMTOOL), *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def node_exporter(textfile_dir: Path) -> Iterator[str]:
    """node_exporter on loopback with only the textfile collector; yields its /metrics URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            tool(NODE_EXPORTER),
            f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={textfile_dir}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Readiness, not a timed assertion: wait until it listens (or has died).
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"node_exporter exited: {proc.stderr.read()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "node_exporter never listened"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        stop(proc)
        proc.stderr.close()


def scrape(url: str) -> str:
    # No proxy from the environment: this is loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return response.read().decode()


# Everything a label value may need escaping for: quote, backslash, newline.
HOSTILE_HOST = 'ws-"07"\\lab\nrack 3'
HOSTILE_GPU = 'NVIDIA "H100" \\ PCIe\nrev 2'


def hot_gpu() -> dict:
    """A second GPU that is in trouble: hot, throttled, with ECC errors and retired pages."""
    gpu = copy.deepcopy(H100)
    gpu.update(
        name=HOSTILE_GPU,
        uuid="GPU-00000000-1111-2222-3333-444444444444",
        temperature=91,
        reasons=0x0040 | 0x0004,  # hw_thermal_slowdown, sw_power_cap
        ecc=3,
        retired=[101, 102],
        remap=(0, 1, 1, 0),  # one uncorrectable row, remap pending
    )
    return gpu


def run_doctor(tmp_path, monkeypatch, fake, *extra):
    """The doctor with --textfile and --save; returns (its JSON report, the metrics text)."""
    monkeypatch.setattr(nvml, "_load", lambda: fake)
    monkeypatch.setattr(socket, "gethostname", lambda: HOSTILE_HOST)
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir(exist_ok=True)
    saved = tmp_path / "doctor.json"
    args = ["doctor", "host", "gpu", "cuda", "compat", "--no-frameworks"]
    args += ["--textfile", str(textfile_dir), "--save", str(saved), *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(saved.read_text()), (textfile_dir / metrics.TEXTFILE_NAME).read_text()
