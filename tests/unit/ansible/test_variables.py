"""Variables that Ansible's own argument validation would let through fail in the first play.

The end-to-end cases run the real playbook in --check against this machine, as
test_preflight.py does, and assert the failure names the variable and the fix, and that
nothing changed. The filter cases call the collection's filters (plugins/filter/variables.py)
directly, with the options read from the real argument specs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plugin_loader import load_plugin
from test_preflight import assert_fails_early, flat, run_preflight

REPO = Path(__file__).resolve().parents[3]
SECRET = "s3cr3t-token-value"

variables = load_plugin("plugins/filter/variables.py")
specs_lookup = load_plugin("plugins/lookup/argument_specs.py")
SPECS = specs_lookup.read_argument_specs(str(REPO / "roles"))
OPTIONS = variables.variable_options(SPECS)
PREFIXES = [*SPECS, "dlstation"]


# (extra vars, what the failure message must name, a secret that must not be printed)
BAD = {
    "switch that is no boolean": (
        {"dlstation_install_gpu_stack": "maybe"},
        ["dlstation_install_gpu_stack", "not a valid boolean", "'yes'"],
        None,
    ),
    "package list of integers": (
        {"python_env_packages": [1, 2]},
        ["python_env_packages[0] is an integer", "must be a string (quote it"],
        None,
    ),
    "apt package list holding a dict": (
        {"system_packages_extra": ["git", {"name": "vim"}]},
        ["system_packages_extra[1] is a dict"],
        None,
    ),
    "URL given as a list": (
        {"python_env_pip_index_url": [f"https://u:{SECRET}@mirror.example/simple"]},
        ["python_env_pip_index_url is a list", "give one string"],
        SECRET,
    ),
    "proxy given as a dict": (
        {"system_apt_proxy": {"url": f"http://lab:{SECRET}@proxy.example:3142"}},
        ["system_apt_proxy is a dict", "give one string"],
        SECRET,
    ),
    "negative disk threshold": (
        {"preflight_disk_required_cpu_gib": -1},
        ["preflight_disk_required_cpu_gib is -1", "give 0 or more"],
        None,
    ),
    "relative venv path": (
        {"python_env_venv_path": "venv"},
        ["python_env_venv_path is venv, a relative path", "give an absolute path"],
        None,
    ),
    "pip index that is not a URL": (
        {"python_env_pip_index_url": "mirror.example/simple"},
        ["python_env_pip_index_url is not a URL: it has no scheme", "host[:port]/path"],
        None,
    ),
    "extra index with another scheme": (
        {"python_env_pip_extra_index_urls": [f"ftp://u:{SECRET}@mirror.example/simple"]},
        ["python_env_pip_extra_index_urls[0] is not a URL: its scheme is ftp", "http, https"],
        SECRET,
    ),
    "password holding a slash": (
        # urlsplit (and pip) would take "alice" for the host and 9 for the port.
        {"frameworks_torch_index_url": f"https://alice:9/{SECRET}@mirror.example/simple"},
        ["frameworks_torch_index_url is not a URL: it has an @ after its host", "%2F"],
        SECRET,
    ),
    "password holding an @": (
        {"python_env_pip_index_url": "https://alice:p@ssW0rd@mirror.example/simple"},
        ["python_env_pip_index_url is not a URL: its user or password holds an @", "%40"],
        "ssW0rd",
    ),
    "proxy with a port that is no number": (
        {"system_apt_proxy": f"http://lab:{SECRET}@proxy.example:port"},
        ["system_apt_proxy is not a URL: it cannot be parsed", "socks5h"],
        SECRET,
    ),
    "NVIDIA mirror without a host": (
        {"cuda_toolkit_repo_base_url": "https:///nvidia/cuda/repos"},
        ["cuda_toolkit_repo_base_url is not a URL: it has no host"],
        None,
    ),
    "venv Python that does not exist": (
        {"python_env_python": "/nonexistent/bin/python3.99"},
        [
            "python_env_python is /nonexistent/bin/python3.99, which does not exist",
            "python_env_apt_packages",
        ],
        None,
    ),
    "venv owner that does not exist": (
        {"python_env_owner": "no-such-dlstation-user"},
        ["python_env_owner is no-such-dlstation-user, which is no user", "Create the account"],
        None,
    ),
    "venv group that does not exist": (
        {"python_env_group": "no-such-dlstation-group"},
        ["python_env_group is no-such-dlstation-group, which is no group", "Create the account"],
        None,
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_variable_fails_in_the_first_play(case: str) -> None:
    extra, needles, secret = BAD[case]
    rc, output, counts = run_preflight(json.dumps(extra))
    assert_fails_early(rc, output, counts, *needles)
    if case.startswith("venv "):
        # The venv's Python and accounts are python_env's to check, in its preflight.
        assert "TASK [python_env : Look for the venv's Python, owner and group]" in output
    else:
        # It failed before the preflight role's own checks (platform, GPU), not after.
        assert "TASK [preflight : Look for NVIDIA GPUs on the PCI bus]" not in output
    if secret:
        assert secret not in output


def test_python_a_listed_package_will_install_passes() -> None:
    """A Python not there yet passes when python_env_apt_packages names its package."""
    rc, output, counts = run_preflight(
        json.dumps(
            {
                "python_env_python": "/usr/bin/python3.99",
                "python_env_apt_packages": ["python3.99", "python3.99-venv"],
                # No pinned wheel exists for an imaginary Python 3.99: that check is
                # test_preflight_platforms.py's, this one is about the Python itself.
                "frameworks_check_pins": False,
            }
        ),
    )
    assert "python_env_python is /usr/bin/python3.99" not in flat(output), output[-3000:]
    assert rc == 0, output[-3000:]
    assert counts["failed"] == 0 and counts["changed"] == 0


def test_misspelt_variable_gets_a_warning_naming_the_one_meant() -> None:
    rc, output, counts = run_preflight("preflight_gpu_forse=true")
    text = flat(output)
    assert "preflight_gpu_forse is not a variable of any dlstation role" in text, output[-3000:]
    assert "Did you mean preflight_gpu_force?" in text
    # A warning, not a failure: the run goes on.
    assert rc == 0, output[-3000:]
    assert counts["failed"] == 0 and counts["changed"] == 0


# The filters themselves, with the options of the real specs.


def test_every_role_and_the_playbook_switches_are_known() -> None:
    assert {"preflight", "python_env", "system", "cuda_toolkit"} <= set(SPECS)
    for name in ("preflight_gpu_force", "python_env_venv_path", "dlstation_install_gpu_stack"):
        assert name in OPTIONS


def test_list_options_type_their_elements_and_url_options_are_strings() -> None:
    for name, option in OPTIONS.items():
        if option.get("type") == "list":
            assert option.get("elements"), f"{name} is a list without elements:"
        if name.endswith(("_url", "_proxy")):
            assert option.get("type") == "str", name
        if name.endswith("_urls"):
            assert (option.get("type"), option.get("elements")) == ("list", "str"), name


def test_good_values_give_no_problem() -> None:
    given = {
        "python_env_venv_path": "/opt/dlstation/venv",
        "python_env_packages": ["numpy", "scipy"],
        "python_env_pip_index_url": "https://alice:p%40ss@mirror.example/simple",
        "python_env_pip_extra_index_urls": ["https://[::1]:8443/simple", ""],
        "system_apt_proxy": "socks5h://apt:pass@127.0.0.1:9050",
        "system_packages_extra": "git,vim",  # -e system_packages_extra=git,vim
        "cudnn_major": 9,
        "preflight_disk_required_cpu_gib": "0",
        "someone_elses_variable": [1, 2],
    }
    assert variables.variable_problems(given, OPTIONS) == []


def test_a_string_option_refuses_a_boolean_and_null() -> None:
    # YAML reads `system_apt_proxy: no` as false, which apt would get as "False".
    problems = variables.variable_problems(
        {"system_apt_proxy": False, "opencv_version": None}, OPTIONS
    )
    assert problems == [
        "opencv_version is null; give one string (quoted in YAML)",
        "system_apt_proxy is a boolean; give one string (quoted in YAML)",
    ]


# name set -> (what near_misses() names instead, retired): a misspelling names the option
# meant; a retired option is named with its replacement, not as a misspelling.
NEAR_MISSES = {
    "preflight_gpu_forse": ("preflight_gpu_force", False),
    "python_env_venv_pth": ("python_env_venv_path", False),
    "dlstation_install_gpu_stak": ("dlstation_install_gpu_stack", False),
    "system_apt_lock_timeout": ("common_apt_lock_timeout", True),
    "system_packages_bundled": ("system_packages_extra", True),
    "python_env_packages_bundled": ("python_env_packages_extra", True),
}


@pytest.mark.parametrize("retired", [False, True], ids=["misspelt", "retired"])
def test_near_misses_name_the_option_meant_and_ignore_the_rest(retired: bool) -> None:
    wrong = [name for name, (_, was) in NEAR_MISSES.items() if was is retired]
    names = [
        *wrong,
        "preflight_gpu_force",  # known
        "ansible_facts",  # no dlstation prefix
        "python_env_my_own_thing",  # prefixed, but close to nothing
    ]
    misses = variables.near_misses(names, OPTIONS, PREFIXES)
    assert misses == [  # sorted by name
        {"name": name, "match": NEAR_MISSES[name][0], "retired": retired} for name in sorted(wrong)
    ]


def test_each_retired_option_is_replaced_by_an_option_a_role_has() -> None:
    assert set(variables.RETIRED.values()) <= set(OPTIONS)
