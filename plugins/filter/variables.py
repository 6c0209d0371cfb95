"""Checks of the variables a host was given, against every role's argument spec.

Ansible's own argument validation converts where it can: a list or a dict given for a
`type: str` option becomes its string form, an integer in an `elements: str` list becomes a
string, and a negative or relative value is a fine int or path. These filters refuse what
the conversion would hide, and find names that look like a misspelt option.

- variable_options(specs): every option of every entry point, by name.
- variable_problems(given, options): one message per wrong value, naming the
  variable and the fix. A value is never printed where it may hold a credential.
- near_misses(names, options, prefixes): unknown names with a role's prefix that are close
  to a known option, each with the option it probably meant, and retired options (RETIRED)
  with what replaced them.
"""

import difflib
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

# Variables named so hold URLs: checked to be URLs, and never printed unredacted.
URL_SUFFIXES = ("_url", "_urls")
PROXY_SUFFIXES = ("_proxy",)
URL_SCHEMES = ("http", "https")
# apt's proxy schemes: apt-transport-http(1), "Supported URI schemes are socks5h, http and https".
PROXY_SCHEMES = ("http", "https", "socks5h")
# How close (difflib's ratio) an unknown name must be to a known one to be called a misspelling.
NEAR_MISS_CUTOFF = 0.8
# Options that roles no longer have, and what to set instead: named as such, not as a misspelling
# of whatever name happens to be close (roles/common took the apt lock timeout and the plan of
# the one apt run and the one pip run; each role's tasks/plan.yml declares its own packages).
RETIRED = {
    "system_apt_lock_timeout": "common_apt_lock_timeout",
    "system_packages_bundled": "system_packages_extra",
    "system_packages_first": "system_packages_extra",
    "python_env_packages_bundled": "python_env_packages_extra",
    # auto reads the branches apt packages; a newly published one needs no listing.
    "nvidia_driver_branches_extra": "nvidia_driver_branch",
    # The state folder has one owner, the preflight role (issue 25).
    "dlcheck_state_dir": "preflight_state_dir",
}


def _kind(value):
    """A value's type in words."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, Mapping):
        return "a dict"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "null"
    return "a string"


def _url_problem(value, schemes):
    """Why `value` is not a URL with one of `schemes` and a host, or None. Never quotes it."""
    if not isinstance(value, str):
        return f"it is {_kind(value)}, not a string"
    if any(char.isspace() for char in value):
        return "it contains a blank"
    if "://" not in value:
        return "it has no scheme"
    try:
        parts = urlsplit(value)
        host, _ = parts.hostname, parts.port
    except ValueError:
        return "it cannot be parsed (its port is not a number, or its host part is broken)"
    if parts.scheme not in schemes:
        return f"its scheme is {parts.scheme or 'empty'}, not one of {', '.join(schemes)}"
    if not host:
        return "it has no host"
    # pip would take the last "@", Ansible's uri module (the index probe) takes the first.
    if parts.netloc.count("@") > 1:
        return "its user or password holds an @"
    if "@" in value.split("://", 1)[1][len(parts.netloc) :]:
        return "it has an @ after its host"
    return None


def _url_problems(name, option, value):
    schemes = PROXY_SCHEMES if name.endswith(PROXY_SUFFIXES) else URL_SCHEMES
    items = value if option.get("type") == "list" and isinstance(value, list) else [value]
    label = (lambda i: f"{name}[{i}]") if option.get("type") == "list" else (lambda i: name)
    problems = []
    for index, item in enumerate(items):
        if item == "":
            continue
        reason = _url_problem(item, schemes)
        if reason:
            problems.append(
                f"{label(index)} is not a URL: {reason}. Write it as "
                f"{'|'.join(schemes)}://[user:password@]host[:port]/path, with any @ / ? # or "
                "blank in the user or password percent-encoded (%40 %2F %3F %23 %20)"
            )
    return problems


def _value_problems(name, option, value):
    kind = option.get("type", "str")
    if kind in ("str", "path"):
        if value is None or isinstance(value, (bool, list, tuple, Mapping)):
            return [f"{name} is {_kind(value)}; give one string (quoted in YAML)"]
        if kind == "path" and str(value) and not os.path.isabs(str(value)):
            return [f"{name} is {value}, a relative path; give an absolute path (starting with /)"]
    elif kind == "list":
        if isinstance(value, str):
            return []  # Ansible splits a string at its commas ("-e name=a,b").
        if not isinstance(value, (list, tuple)):
            return [f"{name} is {_kind(value)}; give a list"]
        if option.get("elements") == "str":
            return [
                f"{name}[{index}] is {_kind(item)}; every item must be a string (quote it in YAML)"
                for index, item in enumerate(value)
                if not isinstance(item, str)
            ]
    elif kind == "int" and not isinstance(value, bool):
        try:
            number = int(str(value).strip())
        except ValueError:
            return []  # Not a number: the role's own argument validation says so.
        if number < 0:
            return [f"{name} is {number}; give 0 or more"]
    return []


def variable_options(specs):
    """{name: option} over every entry point of every role in `specs` (role -> entry points)."""
    options = {}
    for entries in specs.values():
        for entry in (entries or {}).values():
            options.update((entry or {}).get("options") or {})
    return options


def variable_problems(given, options):
    """One message per wrong value among the options that `given` (a host's variables) sets."""
    problems = []
    for name in sorted(options):
        if name not in given:
            continue
        value, option = given[name], options[name]
        found = _value_problems(name, option, value)
        if not found and name.endswith(URL_SUFFIXES + PROXY_SUFFIXES):
            found = _url_problems(name, option, value)
        problems.extend(found)
    return problems


def variable_values(given, options, ignore=()):
    """{name: value} of the options that `given` (a host's variables) sets, but those in
    `ignore`: the inputs a converge rests on, for preflight's record of the last one."""
    return {name: given[name] for name in sorted(options) if name in given and name not in ignore}


def near_misses(names, options, prefixes):
    """[{"name", "match", "retired"}] per name with one of `prefixes` that is no option but
    close to one, or that is a retired option (then "match" is what to set instead)."""
    starts = tuple(f"{prefix}_" for prefix in prefixes)
    known = sorted(options)
    misses = []
    for name in sorted(str(name) for name in names):
        if name in options or not name.startswith(starts):
            continue
        if name in RETIRED:
            misses.append({"name": name, "match": RETIRED[name], "retired": True})
            continue
        match = difflib.get_close_matches(name, known, n=1, cutoff=NEAR_MISS_CUTOFF)
        if match:
            misses.append({"name": name, "match": match[0], "retired": False})
    return misses


class FilterModule:
    def filters(self):
        return {
            "variable_options": variable_options,
            "variable_problems": variable_problems,
            "variable_values": variable_values,
            "near_misses": near_misses,
        }
