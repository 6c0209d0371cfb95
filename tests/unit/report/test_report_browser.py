"""The HTML page in a real headless Chromium: no console errors, no fetches, one row per host."""

from __future__ import annotations

import base64

import pytest
import report_docs as d
from click.testing import CliRunner
from report_cdp import Page, chromium_page, find_chromium

from dlcheck.cli.report import report

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (tests/apt-packages.txt lists it)"
)


def _fleet(folder, n_hosts: int) -> None:
    """A varied fleet: failures, an unreachable host, GPUs, bench runs with folds, hostile names."""
    for i in range(n_hosts):
        name = f"ws{i:03d}" if i != 3 else '<img src=x onerror="console.error(1)">'
        kind = i % 5
        gpus = [] if kind == 4 else [d.gpu(temperature_c=40 + i % 50, used_gib=i % 24)]
        statuses = {"cuda": "fail"} if kind == 1 else {"gpu": "warn"} if kind == 2 else {}
        cudnn = "8.9.7" if kind == 2 else "9.3.0"
        folds = [0.98, 0.985 + i % 3 * 0.001, 0.99]
        d.write(folder, f"h{i}.json", d.doctor(name, gpus=gpus, statuses=statuses, cudnn=cudnn))
        d.write(folder, f"b{i}.json", d.bench(name, samples_per_s=9000 + 100 * i, folds=folds))
    stub = {
        "schema": "dlcheck.verify-stub",
        "schema_version": 1,
        "created": "2026-11-20T10:00:00Z",
        "host": {"hostname": "dead"},
        "status": "unreachable",
        "message": "ssh: timed out",
    }
    d.write(folder, "dead.json", stub)


def _open(page: Page, url: str) -> None:
    for domain in ("Page", "Runtime", "Log", "Network"):
        page.call(f"{domain}.enable")
    page.call("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired")


def _problems(page: Page) -> list[str]:
    """Console errors/warnings, uncaught exceptions and log errors (CSP violations included)."""
    out = []
    for event in page.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            out.append(f"exception: {params['exceptionDetails']}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "warning"}:
            out.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in {"error", "warning"}:
            out.append(f"log: {params['entry'].get('text')}")
    return out


def _requests(page: Page) -> list[str]:
    return [
        e["params"]["request"]["url"]
        for e in page.events
        if e.get("method") == "Network.requestWillBeSent"
    ]


def _render(tmp_path, n_hosts: int):
    reports = tmp_path / "reports"
    _fleet(reports, n_hosts)
    html = tmp_path / "fleet.html"
    result = CliRunner().invoke(report, [str(reports), "--html", str(html)])
    assert result.exit_code == 1, result.output  # the fleet has failures and an unreachable host
    return html


@pytest.mark.slow
def test_page_in_headless_chromium(tmp_path):
    html = _render(tmp_path, n_hosts=12)
    with chromium_page(CHROMIUM, tmp_path / "profile") as page:
        _open(page, html.as_uri())
        assert page.evaluate("document.title") == "dlcheck fleet report"
        assert page.evaluate("document.querySelectorAll('#hosts tbody tr.host').length") == 13
        assert page.evaluate("document.querySelectorAll('#hosts tbody tr').length") == 13
        # Failures first: the unreachable host tops the table.
        first = page.evaluate("document.querySelector('#hosts tbody tr th').textContent")
        assert first == "dead"
        # The hostile hostname is text, not an element.
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        names = page.evaluate(
            "Array.from(document.querySelectorAll('#hosts th.name')).map(e => e.textContent)"
        )
        assert '<img src=x onerror="console.error(1)">' in names
        # Plots: bench speed, GPU temperature, GPU memory, folds.
        assert page.evaluate("document.querySelectorAll('svg.chart').length") == 4
        assert page.evaluate("document.querySelectorAll('#differences tbody tr').length") > 0
        shot = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        pdf = page.call("Page.printToPDF", printBackground=True)
        problems, requests = _problems(page), _requests(page)
    png = base64.b64decode(shot["data"])
    (tmp_path / "fleet.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert base64.b64decode(pdf["data"])[:5] == b"%PDF-"
    assert problems == []
    assert requests == [html.as_uri()], "the page must not load anything but itself"


@pytest.mark.slow
def test_large_fleet_pages_and_filters(tmp_path):
    html = _render(tmp_path, n_hosts=120)
    visible = "Array.from(document.querySelectorAll('#hosts tbody tr.host'))" \
        ".filter(r => r.offsetParent !== null)"  # fmt: skip
    with chromium_page(CHROMIUM, tmp_path / "profile") as page:
        _open(page, html.as_uri())
        assert page.evaluate("document.querySelectorAll('#hosts tbody tr.host').length") == 121
        assert page.evaluate(f"{visible}.length") == 50
        assert page.evaluate("document.getElementById('pageinfo').textContent") == (
            "121 of 121 hosts, page 1 of 3"
        )
        page.evaluate("document.getElementById('next').click()")
        page.evaluate("document.getElementById('next').click()")
        assert page.evaluate(f"{visible}.length") == 21
        # Filter by status: only the 24 hosts with a failed cuda check.
        page.evaluate(
            "var s = document.getElementById('fstatus'); s.value = 'fail';"
            "s.dispatchEvent(new Event('change'))"
        )
        shown = page.evaluate(f"{visible}.map(r => r.getAttribute('data-status'))")
        assert shown == ["fail"] * 24
        # Filter by name.
        page.evaluate(
            "var s = document.getElementById('fstatus'); s.value = '';"
            "s.dispatchEvent(new Event('change'));"
            "var q = document.getElementById('q'); q.value = 'ws11';"
            "q.dispatchEvent(new Event('input'))"
        )
        names = page.evaluate(f"{visible}.map(r => r.querySelector('th').textContent)")
        assert sorted(names) == [f"ws{i}" for i in range(110, 120)]
        # 120 hosts: the bench plot is a histogram, not 120 bars.
        bars = page.evaluate("document.querySelector('svg.chart').querySelectorAll('rect').length")
        assert bars <= 20
        problems = _problems(page)
    assert problems == []
