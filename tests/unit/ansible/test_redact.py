"""dlstation.workstation.redact_url: the one function that removes credentials from a URL
before it is printed.

Each hostile URL below carries a secret where a lab would put one (or where a careless
parser would not look for one); the secret must be gone from the redacted text, and the
host must still be there to make the message useful. The last tests run the real
python_env role, whose failing index check once printed part of a password holding an "@".
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from plugin_loader import load_plugin
from test_network import pip_index_check_fails, run_check

redact_module = load_plugin("plugins/filter/redact.py")
redact = redact_module.redact_url

# (URL, the secret in it, what the redacted text must read)
HOSTILE = {
    "@ in the password": (
        "https://alice:p@ssW0rd@mirror.example/simple",
        "ssW0rd",
        "https://mirror.example/simple",
    ),
    "@@ and : in the password": (
        "https://alice:a@b:c@@d@mirror.example:8443/simple/",
        "a@b:c@@d",
        "https://mirror.example:8443/simple/",
    ),
    "percent-encoded @": (
        "https://alice:p%40ss@mirror.example/simple",
        "p%40ss",
        "https://mirror.example/simple",
    ),
    "/ ? # in the password": (
        "https://alice:p/s?s#w@mirror.example/simple",
        "p/s?s#w",
        "https://mirror.example/simple",
    ),
    "a blank and :// in the password": (
        "https://alice:pa ss://x@mirror.example/simple",
        "pa ss://x",
        "https://mirror.example/simple",
    ),
    "a token as the user": (
        "https://__token__:glpat-s3cr3t@gitlab.example/api/v4/projects/1/packages/pypi/simple",
        "glpat-s3cr3t",
        "https://gitlab.example/api/v4/projects/1/packages/pypi/simple",
    ),
    "apt proxy": ("http://lab:s3cr3t@proxy.lab:3142", "s3cr3t", "http://proxy.lab:3142"),
    "socks proxy": (
        "socks5h://apt:s3cr3t@127.0.0.1:9050",
        "s3cr3t",
        "socks5h://127.0.0.1:9050",
    ),
    "proxy without a scheme": ("lab:s3cr3t@proxy.lab:3128", "s3cr3t", "proxy.lab:3128"),
    "user without a password": (
        "https://s3cr3t@mirror.example/",
        "s3cr3t",
        "https://mirror.example/",
    ),
    "token in the query": (
        "https://mirror.example/simple?token=s3cr3t&x=1",
        "s3cr3t",
        "https://mirror.example/simple?token=***&x=***",
    ),
    "NVIDIA mirror": (
        "https://ci:s3cr3t@mirror.example/nvidia/cuda/repos/ubuntu2404/x86_64/",
        "s3cr3t",
        "https://mirror.example/nvidia/cuda/repos/ubuntu2404/x86_64/",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_url_loses_its_secret_and_keeps_its_host(case: str) -> None:
    url, secret, expected = HOSTILE[case]
    redacted = redact(url)
    assert secret not in redacted
    assert redacted == expected


def test_urls_without_credentials_are_unchanged() -> None:
    for url in (
        "https://mirror.example/simple",
        "http://127.0.0.1:9/simple",
        "",
        "https://[::1]:8443/",
    ):
        assert redact(url) == url


def test_a_list_is_redacted_item_by_item() -> None:
    urls = ["https://a:s3cr3t@one.example/simple", "https://two.example/simple"]
    assert redact(urls) == ["https://one.example/simple", "https://two.example/simple"]


def test_something_that_is_no_string_loses_its_secret_too() -> None:
    """A dict or a number given for a URL variable is printed as its string form, if at all."""
    assert "s3cr3t" not in redact({"url": "https://a:s3cr3t@mirror.example/simple"})
    assert redact(None) == ""
    assert redact(8080) == "8080"


def test_index_with_an_unencoded_at_sign_is_refused_up_front_without_printing_it(
    tmp_path: Path,
) -> None:
    """The issue's case: the first play now refuses it (Ansible's probe would split at the
    first "@"), names the fix, and prints no part of the password."""
    output, text = pip_index_check_fails(tmp_path, "https://alice:p@ssW0rd@127.0.0.1:9/simple")
    assert "python_env_pip_index_url is not a URL: its user or password holds an @" in text
    assert "%40" in text
    assert "PLAY [Provision the workstation]" not in output
    assert "ssW0rd" not in output
    assert "alice" not in output


def test_failing_index_check_prints_neither_password_nor_token(tmp_path: Path) -> None:
    """The python_env role's index check fails on a closed port, naming the index redacted."""
    output, text = pip_index_check_fails(
        tmp_path,
        "https://alice:p%40ssW0rd@127.0.0.1:9/simple?token=tok-s3cr3t",
        "frameworks_check_pins=false",  # the pin check below would stop the play first
    )
    assert "The pip index https://127.0.0.1:9/simple?token=*** does not answer" in text, output[
        -3000:
    ]
    for secret in ("ssW0rd", "tok-s3cr3t", "alice"):
        assert secret not in output


def test_the_pin_check_on_a_failing_index_prints_neither_password_nor_token(
    tmp_path: Path,
) -> None:
    """The preflight's pin check asks the same index first; its failure is redacted too."""
    output, _ = pip_index_check_fails(
        tmp_path, "https://alice:p%40ssW0rd@127.0.0.1:9/simple?token=tok-s3cr3t"
    )
    assert "PLAY [Provision the workstation]" not in output, output[-3000:]
    for secret in ("ssW0rd", "tok-s3cr3t", "alice"):
        assert secret not in output


class _AnyPathAnswers(http.server.BaseHTTPRequestHandler):
    """A pip index stand-in that answers 200 to every page (the role probes <index>/pip/)."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _pip_conf_diff(tmp_path: Path, index: str, extra_index: str) -> tuple[str, str]:
    """python_env in --check --diff against a local index: (output, the pip.conf task's part)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AnyPathAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        proc = run_check(
            "python_env",
            f"python_env_venv_path={tmp_path / 'venv'}",
            f"python_env_pip_index_url={index.format(port=port)}",
            json.dumps({"python_env_pip_extra_index_urls": [extra_index.format(port=port)]}),
            "frameworks_check_pins=false",  # this stand-in answers pages, not pip's queries
        )
    finally:
        server.shutdown()
    output = proc.stdout + proc.stderr
    task = "TASK [python_env : Configure pip for this venv"
    assert task in output, output[-3000:]
    assert not (tmp_path / "venv").exists()
    return output, output.split(task, 1)[1].split("TASK [", 1)[0]


def test_pip_conf_diff_shows_indexes_without_credentials(tmp_path: Path) -> None:
    """The control case: without a credential, --diff shows pip.conf's index lines."""
    _, diff = _pip_conf_diff(
        tmp_path, "http://127.0.0.1:{port}/simple", "http://127.0.0.1:{port}/extra"
    )
    assert "index-url = http://127.0.0.1:" in diff, diff[:2000]


def test_pip_conf_with_a_credential_stays_out_of_the_diff(tmp_path: Path) -> None:
    """pip.conf's --diff is hidden when an index URL carries a password, or only a token."""
    output, diff = _pip_conf_diff(
        tmp_path,
        "http://alice:p%40ssW0rd@127.0.0.1:{port}/simple",
        "http://127.0.0.1:{port}/extra?token=tok-s3cr3t",
    )
    assert "index-url" not in diff, diff[:2000]
    assert "ssW0rd" not in output
    assert "tok-s3cr3t" not in output
