"""dlstation_redact_url, the one function that removes credentials before a URL is printed.

Each hostile URL below carries a secret where a lab would put one (or where a careless
parser would not look for one); the secret must be gone from the redacted text, and the
host must still be there to make the message useful. The last test runs the real
python_env role, whose failing index check once printed part of a password holding an "@".
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from test_network import run_check

REPO = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location(
    "redact", REPO / "roles/preflight/filter_plugins/redact.py"
)
assert _spec and _spec.loader
redact_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(redact_module)
redact = redact_module.dlstation_redact_url

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


def test_failing_index_check_prints_a_password_with_an_at_sign_nowhere(tmp_path: Path) -> None:
    """The python_env role's index check fails on a closed port, naming the index redacted."""
    proc = run_check(
        "python_env",
        f"python_env_venv_path={tmp_path / 'venv'}",
        "python_env_pip_index_url=https://alice:p@ssW0rd@127.0.0.1:9/simple",
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    text = re.sub(r"\s+", " ", output)
    assert "The pip index https://127.0.0.1:9/simple does not answer" in text, output[-3000:]
    assert "ssW0rd" not in output
    assert "alice" not in output
