"""`dlcheck report --html`: one self-contained page (inline CSS, JS and SVG; no fetches).

Every string a host provided (hostnames, messages, fact values) goes through
`escape`. The page works without JavaScript (all rows shown); with it, the host
table pages 50 rows at a time and can be filtered by name, status and group.
A Content-Security-Policy forbids any network load, so the page cannot fetch
anything even by mistake. Printing opens every collapsed section.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from dlcheck import __version__
from dlcheck.report import svg
from dlcheck.report.facts import check_facts
from dlcheck.report.load import area_columns
from dlcheck.report.model import Difference, Fleet, HostEntry
from dlcheck.report.render_text import LEGEND, describe, host_label, mark, summary_line

PAGE_SIZE = 50
# Differences with more hosts than this put the host list behind a <details>.
INLINE_HOSTS = 12


@cache
def _asset(name: str) -> str:
    """page.css, or page.js (paging and filtering over rows already in the page: it
    reads only the DOM and fetches nothing); package files beside this module."""
    return "\n" + resources.files("dlcheck.report").joinpath(name).read_text(encoding="utf-8")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def render_html(fleet: Fleet) -> str:
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network, ever: only the inline style, script and data: images below may load.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        "<title>dlcheck fleet report</title>",
        f"<style>{_asset('page.css')}</style></head><body>",
        "<header><h1>dlcheck fleet report</h1>",
        f'<p class="summary">{_e(summary_line(fleet))}</p>',
        f'<p class="meta">made {_e(created)} by dlcheck {_e(__version__)}</p>',
        _badges(fleet),
        "</header><main>",
        _warnings(fleet),
        _groups(fleet),
        _hosts_table(fleet),
        _differences(fleet),
        _plots(fleet),
        "</main>",
        f"<footer><p>Legend: {_e(LEGEND)}</p></footer>",
        f"<script>{_asset('page.js').replace('PAGE_SIZE', str(PAGE_SIZE))}</script>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _badges(fleet: Fleet) -> str:
    items = [
        f'<span class="badge s-{_e(k)}">{v} {_e(k)}</span>' for k, v in fleet.counts().items() if v
    ]
    return f'<p class="badges">{"".join(items)}</p>'


def _warnings(fleet: Fleet) -> str:
    if not fleet.skipped and not fleet.notes:
        return ""
    items = [f"<li>skipped <code>{_e(s.path)}</code>: {_e(s.reason)}</li>" for s in fleet.skipped]
    items += [f"<li>{_e(note)}</li>" for note in fleet.notes]
    return (
        '<section id="input"><h2>Input warnings</h2><details><summary>'
        f"{len(fleet.skipped)} file(s) skipped, {len(fleet.notes)} note(s)</summary>"
        f"<ul>{''.join(items)}</ul></details></section>"
    )


def _groups(fleet: Fleet) -> str:
    groups = fleet.groups()
    if not groups:
        return ""
    statuses = [k for k, v in fleet.counts().items() if v]
    head = "".join(f"<th>{_e(s)}</th>" for s in statuses)
    rows = []
    for group in groups:
        members = [h for h in fleet.hosts if h.group == group]
        cells = "".join(f"<td>{sum(h.status == s for h in members) or ''}</td>" for s in statuses)
        rows.append(f"<tr><td>{_e(group)}</td><td>{len(members)}</td>{cells}</tr>")
    return (
        '<section id="groups"><h2>Groups</h2><table class="groups"><thead><tr><th>group</th>'
        f"<th>hosts</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _hosts_table(fleet: Fleet) -> str:
    columns = area_columns(fleet)
    groups = fleet.groups()
    head = "<th>host</th>" + ("<th>group</th>" if groups else "") + "<th>status</th>"
    head += "".join(f"<th>{_e(c)}</th>" for c in columns) + "<th>problems</th>"
    rows = [_host_row(h, columns, bool(groups)) for h in fleet.hosts]
    statuses = "".join(
        f'<option value="{_e(k)}">{_e(k)} ({v})</option>' for k, v in fleet.counts().items() if v
    )
    group_select = ""
    if groups:
        options = "".join(f'<option value="{_e(g)}">{_e(g)}</option>' for g in groups)
        group_select = (
            f'<label>group <select id="fgroup"><option value="">all</option>{options}'
            "</select></label>"
        )
    controls = (
        '<div class="controls js-only"><label>host <input id="q" type="search" '
        'placeholder="filter by name"></label>'
        f'<label>status <select id="fstatus"><option value="">all</option>{statuses}</select>'
        f'</label>{group_select}<span class="pager"><button id="prev" type="button">&larr; prev'
        '</button><span id="pageinfo"></span><button id="next" type="button">next &rarr;'
        "</button></span></div>"
    )
    return (
        f'<section id="hosts-section"><h2>Hosts ({len(fleet.hosts)}), problems first</h2>'
        f'{controls}<table id="hosts"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _host_row(host: HostEntry, columns: list[str], with_group: bool) -> str:
    cells = [f'<th scope="row" class="name">{_e(host.hostname)}</th>']
    if with_group:
        cells.append(f"<td>{_e(host.group or '')}</td>")
    cells.append(f'<td class="s-{_e(host.status)}">{_e(host_label(host.status))}</td>')
    for column in columns:
        status = host.checks.get(column)
        title = status or "not run"
        cells.append(
            f'<td class="mark s-{_e(status or "none")}" title="{_e(title)}">{_e(mark(status))}</td>'
        )
    cells.append(f"<td>{_problem_list(host)}</td>")
    return (
        f'<tr class="host" data-host="{_e(host.hostname.lower())}" data-status="{_e(host.status)}"'
        f' data-group="{_e(host.group or "")}">{"".join(cells)}</tr>'
    )


def _problem_list(host: HostEntry) -> str:
    if host.stub is not None:
        return f'<span class="s-{_e(host.status)}">{_e(host.message or "no report")}</span>'
    problems = host.problems(include_warnings=True)
    if not problems:
        return ""
    items = []
    for p in problems:
        hint = f'<br><span class="hint">fix: {_e(p["hint"])}</span>' if p.get("hint") else ""
        items.append(
            f'<li><span class="s-{_e(p.get("status"))}">{_e(mark(p.get("status")))}</span> '
            f"{_e(p.get('check'))}: {_e(p.get('message'))}{hint}</li>"
        )
    n = len(problems)
    summary = f"{n} finding{'s' if n > 1 else ''}"
    return f"<details><summary>{summary}</summary><ul>{''.join(items)}</ul></details>"


def _differences(fleet: Fleet) -> str:
    reporting = [h for h in fleet.hosts if h.doctor is not None or h.bench is not None]
    if len(reporting) < 2:
        body = (
            '<p class="empty">Only one host reported, so there is nothing to compare. '
            "Run <code>playbooks/verify.yml</code> across an inventory to compare hosts.</p>"
        )
    elif not fleet.differences:
        scope = "each group" if fleet.grouped else "all hosts"
        body = f'<p class="empty">None: every compared fact is the same on {scope}.</p>'
    else:
        by_group: dict[str, list[Difference]] = {}
        for diff in fleet.differences:
            by_group.setdefault(diff.group, []).append(diff)
        # Many groups: each starts collapsed, its summary saying how many facts differ.
        expand = len(by_group) <= 3
        body = "".join(_difference_group(g, diffs, expand) for g, diffs in by_group.items())
    return (
        '<section id="differences"><h2>Differences</h2><p class="meta">Facts that are not the '
        "same on all hosts of a group; the most common value first. Numbers (speed, accuracy) "
        f"list only the hosts beyond the tolerance from the median.</p>{body}</section>"
    )


def _difference_group(group: str, diffs: list[Difference], expand: bool) -> str:
    rows = []
    for diff in diffs:
        span = len(diff.values)
        for i, value in enumerate(diff.values):
            first = (
                f'<th scope="rowgroup" rowspan="{span}">{_e(describe(diff))}</th>' if i == 0 else ""
            )
            rows.append(
                f"<tr>{first}<td><code>{_e(value.value)}</code></td><td>{_host_names(value.hosts)}"
                "</td></tr>"
            )
    n = len(diffs)
    counted = f"{n} fact{'s' if n > 1 else ''} differ{'' if n > 1 else 's'}"
    return (
        f'<details class="group"{" open" if expand else ""}><summary><h3>group {_e(group)}: '
        f"{counted}</h3></summary>"
        '<table class="diff"><thead><tr><th>fact</th><th>value</th><th>hosts</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details>"
    )


def _host_names(names: list[str]) -> str:
    text = ", ".join(_e(n) for n in names)
    if len(names) <= INLINE_HOSTS:
        return f"{len(names)}: {text}"
    return f"<details><summary>{len(names)} hosts</summary>{text}</details>"


def _plots(fleet: Fleet) -> str:
    return (
        '<section id="plots"><h2>Plots</h2>'
        + _bench_plot(fleet)
        + _gpu_plots(fleet)
        + _fold_plot(fleet)
        + "</section>"
    )


def _num(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def _bench_plot(fleet: Fleet) -> str:
    items = [
        (h.hostname, v)
        for h in fleet.hosts
        if (v := h.facts.get("bench_samples_per_s")) is not None
    ]
    title = "Bench training speed (samples/s) per host"
    return _chart(
        title,
        items,
        "No bench reports in this fleet. Add the output of <code>dlcheck bench --json</code> "
        "to the report folder to compare speeds.",
        lambda: svg.bars(items, title, lambda v: f"{v:,.0f}/s"),
    )


def _chart(title: str, items: list[Any], empty: str, draw: Callable[[], str]) -> str:
    """A titled chart, or a line saying why there is nothing to chart."""
    if not items:
        return f'<h3>{title}</h3><p class="empty">{empty}</p>'
    return f"<h3>{title}</h3>" + draw()


def _gpu_items(fleet: Fleet) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for host in fleet.hosts:
        gpus = check_facts(host.doctor, "gpu").get("gpus")
        if not isinstance(gpus, list):
            continue
        many = len(gpus) > 1
        for gpu in gpus:
            if isinstance(gpu, dict):
                label = f"{host.hostname} GPU{gpu.get('index', '?')}" if many else host.hostname
                out.append((label, gpu))
    return out


def _gpu_plots(fleet: Fleet) -> str:
    gpus = _gpu_items(fleet)
    if not gpus:
        return (
            '<h3>GPU temperature and memory</h3><p class="empty">No GPUs in this fleet: no host '
            "reported an NVIDIA GPU, so there is no temperature or memory plot.</p>"
        )
    temps = [(label, t) for label, g in gpus if (t := _num(g.get("temperature_c"))) is not None]
    mems = [
        (label, used, total)
        for label, g in gpus
        if (used := _num(g.get("memory_used_bytes"))) is not None
        and (total := _num(g.get("memory_total_bytes")))
    ]
    out = ["<h3>GPU temperature (°C)</h3>"]
    if temps:
        out.append(
            svg.bars(
                temps,
                "GPU temperature per GPU",
                lambda v: f"{v:.0f} °C",
                ceiling=max(100.0, max(v for _, v in temps)),
                css=lambda v: "hot" if v >= 85 else "bar",
            )
        )
    else:
        out.append('<p class="empty">No GPU reported its temperature.</p>')
    out.append("<h3>GPU memory in use</h3>")
    if mems:
        out.append(svg.usage_bars(mems, "GPU memory used per GPU"))
    else:
        out.append('<p class="empty">No GPU reported its memory use.</p>')
    return "".join(out)


def _fold_plot(fleet: Fleet) -> str:
    items = []
    for host in fleet.hosts:
        folds = (host.bench or {}).get("folds")
        accs = folds.get("accuracies") if isinstance(folds, dict) else None
        if isinstance(accs, list):
            values = [v for a in accs if (v := _num(a)) is not None]
            if values:
                items.append((host.hostname, values))
    title = "Cross-validation fold accuracies per host"
    return _chart(
        title,
        items,
        "No bench report in this fleet has fold accuracies (they come from a bench run "
        "with cross-validation folds).",
        lambda: svg.strips(items, title, lambda v: f"{v * 100:.2f}%"),
    )
