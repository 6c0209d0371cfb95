"""run_tool: a short command's output, or an Unavailable that says why not."""

from __future__ import annotations

import sys

from dlcheck.doctor.probes import Unavailable, run_tool


def test_output_joins_stdout_and_stderr():
    code = "import sys; print('out'); print('version 2.43.0', file=sys.stderr)"
    out = run_tool([sys.executable, "-c", code])
    assert out == "out\nversion 2.43.0\n"


def test_missing_program_is_unavailable_naming_it():
    out = run_tool(["/nonexistent/dot", "-V"])
    assert isinstance(out, Unavailable)
    assert "cannot run /nonexistent/dot" in out.reason


def test_hanging_program_is_unavailable_after_the_timeout():
    out = run_tool([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert isinstance(out, Unavailable)
    assert "timed out after 0.5 s" in out.reason
