"""Which NVIDIA driver branch, and which kernel modules, a host gets: pure logic, no I/O.

The nvidia_driver role reads the facts on the host (apt's package names, versions and
Modaliases, Debian's nvidia-detect id list, the PCI ids of the GPUs) and from
dlcheck/compat/compat.json (branch end-of-life dates, GPU generations, CUDA driver floors),
and these filters decide:

- nvidia_driver_packaged: apt's answers -> the branches the distro really packages, and the
  GPUs each package lists.
- nvidia_driver_cuda_needs: the framework builds being installed -> the CUDA majors they need.
- nvidia_driver_choice: all of the above -> the branch, the module flavour, the package name,
  the reasons, the warnings, or one error naming what to change.

The choice is a table: driver_candidates gives one Candidate per packaged branch (its package,
kernel modules, lifecycle status, and why it can or cannot serve), in auto's order of
preference; the first acceptable row is the choice, and every message is rendered from the
rows. The table needs no Ansible, so another caller can build it from the same facts.

Errors are returned, not raised: the role's assert prints them as its one-line message.
"""

import re
from dataclasses import dataclass, replace

# Ubuntu: nvidia-driver-<branch>[-server][-open] (restricted).
_UBUNTU_NAME = re.compile(r"^nvidia-driver-(\d+)(-server)?(-open)?$")
# A dependency on another branch's metapackage marks a transitional package.
_DRIVER_DEPENDENCY = re.compile(r"\bnvidia-driver-\d+(-server)?(-open)?\b")
# Ubuntu's driver metapackages list the GPUs they drive in their Modaliases field, one alias per
# PCI id under NVIDIA's vendor id 10DE: "nvidia(pci:v000010DEd00002335sv*sd*bc03sc*i*, ...)".
_MODALIAS_DEVICE = re.compile(r"pci:v000010DEd0000([0-9A-F]{4})", re.IGNORECASE)
# Debian's nvidia-detect lists the GPUs of its nvidia-driver in usr/share/nvidia/nvidia.ids,
# one vendor+device id a line: "10DE2335".
_DETECT_DEVICE = re.compile(r"^10DE([0-9A-F]{4})\s*$", re.IGNORECASE | re.MULTILINE)
# Where a package's GPU list was read, as the messages name it: "<package> does not list <id>
# in ...", and the device limit of the chosen package.
_LISTED_IN = {"Modaliases": "its Modaliases", "nvidia-detect": "nvidia-detect's nvidia.ids"}
_LIMIT_FROM = {
    "Modaliases": "the Modaliases of {}",
    "nvidia-detect": "nvidia-detect's nvidia.ids for {}",
}
_NO_LIST = {
    "Modaliases": "{} carries no Modaliases field",
    "nvidia-detect": "no nvidia-detect list was read for {} (apt-get download nvidia-detect)",
}
# NVIDIA's repository: cuda-drivers-<branch> (its pinned driver meta-packages).
_NVIDIA_REPO_NAME = re.compile(r"^cuda-drivers-(\d+)$")
# `apt-cache madison nvidia-driver`, one line per version:
#   "nvidia-driver | 535.261.03-1~deb12u1 | <uri> <suite>/non-free amd64 Packages"
_MADISON = re.compile(r"^\s*nvidia-driver\s*\|\s*(?:\d+:)?(\d+)\.[^|]*\|\s*(.*)$")
# Debian's own archive lists the driver under its non-free component.
_DEBIAN_NONFREE = re.compile(r"\s\S+/non-free\s")
# The designations auto may pick (NVIDIA's own words in compat.json's driver_branches).
AUTO_DESIGNATIONS = ("production", "long term support")
# The fix when the frameworks' CUDA needs a newer driver than the GPU can have.
_OLDER_CUDA = (
    "choose a build for an older CUDA (frameworks_jax_cuda_extra, "
    "frameworks_torch_index_url, or frameworks_tensorflow_variant=cpu)"
)
# The kernel modules' names per nvidia_driver_open (compat.json's gpu_generations words).
_FLAVOUR = {True: "open", False: "proprietary"}
# Ubuntu's package suffix per (server, open).
_SUFFIX = {
    (False, False): "",
    (False, True): "-open",
    (True, False): "-server",
    (True, True): "-server-open",
}


def nvidia_driver_packaged(
    pkgnames, madison=(), distribution="Ubuntu", fallback=(), show="", detect_ids=""
):
    """The branches apt can install, as {"branches": {"580": [suffixes]}, "source": ..., ...}.

    "device_lists" maps each package whose supported GPUs are known to the PCI device ids it
    lists ({"nvidia-driver-580": ["0x1340", ...]}); "device_lists_from" says where they were
    read: Ubuntu's packages' Modaliases, or (Debian) detect_ids, the nvidia.ids file of
    nvidia-detect, built from the same source as nvidia-driver. A package absent from it is
    not limited.

    pkgnames: `apt-cache pkgnames nvidia-driver-` and `... cuda-drivers-` lines.
    madison: `apt-cache madison nvidia-driver` lines (Debian).
    show: `apt-cache show --no-all-versions` of Ubuntu's nvidia-driver-* names. Ubuntu keeps
    an ended branch's name as a transitional package that depends on a newer branch
    (nvidia-driver-535 -> nvidia-driver-580 on 24.04): only a name that depends on no other
    nvidia-driver-<branch> is that branch.
    fallback: the role's frozen list for this distro, used only when apt knows no driver
    (empty lists, or Debian's non-free not enabled yet); its variants are then unknown.
    """
    branches = {}
    transitional = {}
    device_lists = {}
    if distribution == "Debian":
        for line in madison or ():
            match = _MADISON.match(line)
            if match and _DEBIAN_NONFREE.search(" " + match.group(2) + " "):
                branches.setdefault(match.group(1), [""])
        ids = _DETECT_DEVICE.findall(detect_ids or "")
        if branches and ids:
            device_lists["nvidia-driver"] = sorted({_pci_id(h) for h in ids})
    else:
        for name, depends, aliases in _records(show):
            match = _UBUNTU_NAME.match(name)
            if not match:
                continue
            target = _DRIVER_DEPENDENCY.search(depends)
            if target:
                transitional[name] = target.group(0)
                continue
            suffix = (match.group(2) or "") + (match.group(3) or "")
            branches.setdefault(match.group(1), []).append(suffix)
            if aliases:
                device_lists[name] = sorted({_pci_id(h) for h in _MODALIAS_DEVICE.findall(aliases)})
    nvidia_repo = sorted(
        {m.group(1) for m in map(_NVIDIA_REPO_NAME.match, map(str.strip, pkgnames or ())) if m},
        key=int,
    )
    source = "apt"
    if not branches and fallback:
        source = "fallback"
        variants = [""] if distribution == "Debian" else sorted(_SUFFIX.values())
        branches = {str(branch): list(variants) for branch in fallback}
    return {
        "branches": {b: sorted(set(v)) for b, v in sorted(branches.items(), key=_branch_key)},
        "source": source,
        "transitional": transitional,
        "nvidia_repo": nvidia_repo,
        "device_lists": device_lists,
        "device_lists_from": "nvidia-detect" if distribution == "Debian" else "Modaliases",
    }


def _records(show):
    """(Package, Depends, Modaliases) of each record of `apt-cache show` output."""
    for record in re.split(r"\n\s*\n", show or ""):
        fields = dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", record, re.M))
        if "Package" in fields:
            yield fields["Package"].strip(), fields.get("Depends", ""), fields.get("Modaliases", "")


def _pci_id(value):
    """A PCI device id as the probe and the messages write it: "0x2335"."""
    return f"0x{int(str(value), 16):04x}"


def _branch_key(item):
    return int(item[0])


def nvidia_driver_cuda_needs(compat, tensorflow=None, jax=None, torch_index_url=None, wheels=None):
    """The CUDA majors of the GPU framework builds being installed: [{"what", "cuda_major"}].

    tensorflow: its version (GPU build installed), jax: its CUDA extra ("cuda12"), torch_index_url:
    its index ("" for the default index). None: that framework's GPU build is not installed.
    wheels: {package: CUDA major} read from the pinned wheels' Requires-Dist by the frameworks
    role's pin check (the wheel's own word, ahead of the index URL's name).
    cuda_major is None where neither says (a note says so).
    """
    needs = []
    if tensorflow:
        minor = ".".join(str(tensorflow).split(".")[:2])
        build = next((b for b in compat["tensorflow"]["builds"] if minor in b["versions"]), None)
        needs.append(
            {
                "what": f"tensorflow {tensorflow}",
                "cuda_major": build["cuda"].split(".")[0] if build else None,
            }
        )
    if jax:
        match = re.fullmatch(r"cuda(\d+)", str(jax))
        needs.append({"what": f"jax[{jax}]", "cuda_major": match.group(1) if match else None})
    if torch_index_url is not None:
        # PyTorch's CUDA indexes end in cuXYZ (cu126, cu130): the major is all but the last digit.
        match = re.search(r"/cu(\d+)\d/?$", str(torch_index_url))
        major = (wheels or {}).get("torch") or (match.group(1) if match else None)
        needs.append({"what": "torch", "cuda_major": str(major) if major else None})
    return needs


def _major(version):
    return int(str(version).split(".")[0])


def _branch_status(branch, compat, today):
    """(designation, end of life "YYYY-MM" or None, is past end of life) from compat.json."""
    table = {int(row["branch"]): row for row in compat["driver_branches"]["branches"]}
    row = table.get(branch)
    if row is None:
        # compat.json's rule: unlisted and older than the newest listed means past end of life.
        if branch < max(table):
            return "not listed by NVIDIA", None, True
        return "newer than compat.json knows", None, False
    eol = row.get("end_of_life")
    past = row.get("maintained", True) is False or (eol is not None and today > eol)
    return row["designation"], eol, past


def _generation_limits(names, compat):
    """(lowest branch, highest branch, module flavours allowed, reasons, error) for the GPUs."""
    by_name = {g["name"].lower(): g for g in compat["gpu_generations"]["generations"]}
    toolkit_driver = compat["cuda_toolkit_driver"]["by_cuda"]
    low, high, modules, reasons = 0, None, {"open", "proprietary"}, []
    for name in names:
        gen = by_name.get(str(name).lower())
        if gen is None:
            known = ", ".join(g["name"] for g in compat["gpu_generations"]["generations"])
            return (
                None,
                None,
                None,
                [],
                (
                    f"nvidia_driver_gpu_generations names {name}, which is not a GPU generation "
                    f"compat.json knows ({known})."
                ),
            )
        parts = []
        first = toolkit_driver.get(gen["first_cuda"])
        if first:
            low = max(low, _major(first))
            parts.append(f">= {_major(first)} (its first CUDA {gen['first_cuda']})")
        if gen["last_driver_branch"] is not None:
            last = int(gen["last_driver_branch"])
            high = last if high is None else min(high, last)
            parts.append(f"<= {last} (its last branch)")
        modules &= set(gen["kernel_modules"])
        flavours = " or ".join(gen["kernel_modules"])
        parts.append(f"{flavours} kernel modules")
        reasons.append(f"{gen['name']} GPU: branch " + ", ".join(parts))
    if not modules:
        return (
            None,
            None,
            None,
            reasons,
            (
                "The GPUs of nvidia_driver_gpu_generations need different kernel modules (one only "
                "open, one only proprietary); no driver install serves both. Drive them from "
                "separate hosts."
            ),
        )
    return low, high, modules, reasons, None


def nvidia_driver_choice(
    packaged,
    compat,
    requested="auto",
    requested_open="auto",
    server=False,
    generations=(),
    needs=(),
    today="",
    distribution="Ubuntu",
    devices=(),
):
    """The branch and kernel modules for this host, with the reasons, or an error.

    Returns {"branch", "open", "package", "devices", "device_limit", "reason": [..],
    "warnings": [..], "error": str}.
    requested: "auto" or a branch; requested_open: "auto", True or False (Ubuntu; Debian's
    nvidia-driver is the proprietary flavour); today: "YYYY-MM" for the end-of-life dates;
    devices: the PCI device ids of the host's NVIDIA GPUs ("0x2335", the preflight's probe):
    a package whose Modaliases (Debian: nvidia-detect's list) leave one out cannot serve the host.
    """
    result = {
        "branch": "",
        "open": False,
        "package": "",
        "devices": [],
        "device_limit": "",
        "reason": [],
        "warnings": [],
    }
    reason = result["reason"]
    try:
        devices = sorted({_pci_id(d) for d in devices or ()})
    except ValueError:
        return dict(result, error=f"devices must be PCI device ids such as 0x2335: {devices}.")
    result["devices"] = devices
    available = {int(b): v for b, v in packaged["branches"].items()}
    listed = ", ".join(str(b) for b in sorted(available)) or "none"
    reason.append(_packaged_reason(distribution, listed, packaged["source"]))
    if packaged["source"] != "apt":
        result["warnings"].append(_FROZEN_LIST_WARNING)

    # Each step below either narrows what may serve the host, or names what to change.
    requested_open = _open_switch(requested_open)
    if requested_open is None:
        return dict(result, error="nvidia_driver_open must be auto, true or false.")
    low, high, modules, gen_reasons, error = _generation_limits(generations, compat)
    if error:
        return dict(result, error=error)
    reason.extend(gen_reasons or [_NO_GENERATION])
    floor, floor_from, need_reasons, error = _cuda_floor(needs, compat)
    reason.extend(need_reasons)
    if error:
        return dict(result, error=error)
    flavours, error = _flavours(distribution, requested_open, modules)
    if error:
        return dict(result, error=error)
    host = Host.read(
        packaged,
        available,
        devices,
        modules=modules,
        flavours=flavours,
        low=low,
        high=high,
        floor=floor,
        floor_from=floor_from,
        distribution=distribution,
        server=server,
    )
    branches = None
    if requested != "auto":
        branch = int(requested) if str(requested).isdigit() else -1
        if branch not in available:
            return dict(result, error=_not_packaged(requested, distribution, listed, packaged))
        branches = [branch]

    table = driver_candidates(host, compat, today, branches)
    chosen = first_acceptable(table)
    if chosen is None:
        instead = _auto_instead(host, requested_open, compat, today, branches)
        return dict(result, error=_refusal(requested, listed, host, table, instead))
    if distribution != "Debian" and requested_open == "auto":
        reason.append(_modules_reason(chosen, modules, bool(devices) and chosen.has_device_list))
    result["device_limit"], device_reason = _device_limit(host, chosen)
    reason.append(device_reason)
    if chosen.past_end_of_life:
        result["warnings"].append(_end_of_life_warning(chosen))
    result.update(branch=str(chosen.branch), open=chosen.open, package=chosen.package)
    reason.append(_chosen_reason(chosen, requested))
    return dict(result, error="")


# --- the table: one row per packaged branch ------------------------------------------------
# Pure data and rules, no Ansible: another caller (the doctor) can build the same table.


@dataclass(frozen=True)
class Host:
    """What the rule weighs for one host: apt's packages, the GPUs, their limits, the modules."""

    available: dict[int, list[str]]  # packaged branch -> Ubuntu suffixes ("", "-open", ...)
    source: str  # "apt", or "fallback" (the role's frozen list)
    device_lists: dict[str, set[str]]  # package -> the PCI ids it lists
    lists_from: str  # where they were read: "Modaliases" or "nvidia-detect"
    listed_in: str  # the same, as the messages name it
    devices: list[str]  # the detected GPUs' PCI ids
    modules: set[str]  # the kernel module flavours the GPU generations allow
    flavours: list[bool]  # the flavours to try, in order (True: open)
    low: int = 0  # the first branch the GPU generations allow
    high: int | None = None  # the last one (None: no limit)
    floor: int = 0  # the first branch the frameworks' CUDA allows
    floor_from: dict | None = None  # the need ({"what", "cuda_major"}) that sets it
    distribution: str = "Ubuntu"
    server: bool = False

    @classmethod
    def read(cls, packaged, available, devices, **limits):
        """A Host from nvidia_driver_packaged's answer; `available` is its branches as ints."""
        lists_from = packaged.get("device_lists_from", "Modaliases")
        return cls(
            available=available,
            source=packaged["source"],
            device_lists={n: set(ids) for n, ids in (packaged.get("device_lists") or {}).items()},
            lists_from=lists_from,
            listed_in=_LISTED_IN[lists_from],
            devices=devices,
            **limits,
        )

    @property
    def tried(self):
        """The flavours tried per branch: without detected GPUs, or without any list to check
        them against, the first flavour stands; with both, a branch falls back to the next."""
        return self.flavours if self.devices and self.device_lists else self.flavours[:1]

    def suffix(self, want_open):
        return "" if self.distribution == "Debian" else _SUFFIX[(bool(self.server), want_open)]

    def package(self, branch, want_open):
        if self.distribution == "Debian":
            return "nvidia-driver"
        return f"nvidia-driver-{branch}{self.suffix(want_open)}"

    def unlisted(self, name):
        """The detected GPUs package `name` leaves out; None when it carries no list."""
        if name not in self.device_lists:
            return None
        return [d for d in self.devices if d not in self.device_lists[name]]


@dataclass(frozen=True)
class Candidate:
    """One packaged branch in the flavour this host would get, and why it can or cannot serve."""

    branch: int
    package: str  # its package in the flavour taken (the first tried when none serves)
    open: bool  # that flavour's kernel modules (True: open)
    serves_gpus: bool  # a tried flavour is packaged, and its list leaves no detected GPU out
    passed_over: tuple[str, ...]  # why the tried flavours before it cannot (all, when none can)
    limits: tuple[str, ...]  # the GPU generations' and the frameworks' limits it breaks
    has_device_list: bool  # its package lists the GPUs it drives
    designation: str  # from compat.json's driver_branches, or why it is not there
    end_of_life: str | None  # "YYYY-MM"
    past_end_of_life: bool

    @property
    def rejected(self):
        """Why this branch cannot serve the host; empty when it can."""
        return (() if self.serves_gpus else self.passed_over) + self.limits

    @property
    def supported(self):
        """Auto prefers it: a production or long-term branch, not past its end of life."""
        return self.designation in AUTO_DESIGNATIONS and not self.past_end_of_life


def driver_candidates(host, compat, today, branches=None):
    """The table: a Candidate per packaged branch (or per one of `branches`), in the order auto
    prefers them: the supported ones first, newest first within each."""
    rows = [
        _candidate(host, b, compat, today)
        for b in (host.available if branches is None else branches)
    ]
    return sorted(rows, key=lambda row: (not row.supported, -row.branch))


def first_acceptable(table):
    """The choice: the first row nothing rejects, or None."""
    return next((row for row in table if not row.rejected), None)


def _candidate(host, branch, compat, today):
    want_open, serves, passed_over = _take_flavour(host, branch)
    designation, eol, past = _branch_status(branch, compat, today)
    package = host.package(branch, want_open)
    return Candidate(
        branch=branch,
        package=package,
        open=want_open,
        serves_gpus=serves,
        passed_over=tuple(passed_over),
        limits=tuple(_limit_reasons(host, branch)),
        has_device_list=package in host.device_lists,
        designation=designation,
        end_of_life=eol,
        past_end_of_life=past,
    )


def _take_flavour(host, branch):
    """(open?, whether its package serves the GPUs, why the flavours before it do not)."""
    why = []
    for want_open in host.tried:
        name = host.package(branch, want_open)
        if host.suffix(want_open) not in host.available.get(branch, ()):
            why.append(f"no package {name}")
            continue
        missing = host.unlisted(name)
        if not missing:
            return want_open, True, why
        why.append(f"{name} does not list {', '.join(missing)} in {host.listed_in}")
    return host.tried[0], False, why


def _limit_reasons(host, branch):
    """The GPU generations' and the frameworks' limits `branch` breaks."""
    why = []
    if branch < host.low:
        why.append(f"older than {host.low}, the first for the GPU")
    if host.high is not None and branch > host.high:
        why.append(f"newer than {host.high}, the last for the GPU")
    if branch < host.floor:
        why.append(f"older than {host.floor}, which {host.floor_from['what']} needs")
    return why


def _auto_instead(host, requested_open, compat, today, branches):
    """The row auto's kernel modules would take, where the asked ones alone may keep the GPUs
    out (Ubuntu, GPUs detected); None when there is none or the question does not arise."""
    if requested_open == "auto" or host.distribution == "Debian" or not host.devices:
        return None
    auto, _error = _flavours(host.distribution, "auto", host.modules)
    return first_acceptable(
        driver_candidates(replace(host, flavours=auto), compat, today, branches)
    )


# --- the steps before the table -----------------------------------------------------------


def _cuda_floor(needs, compat):
    """(floor branch, the need that sets it, reasons, error) for the frameworks' CUDA majors.

    On an error the reasons stop at the need that caused it."""
    floors = compat["cuda_driver_floor"]["by_cuda_major"]
    floor, floor_from, reasons = 0, None, []
    for need in needs:
        major = need.get("cuda_major")
        if major is None:
            reasons.append(f"{need['what']}: CUDA major not known to compat.json, not checked")
            continue
        if str(major) not in floors:
            error = (
                f"{need['what']} needs CUDA {major}, whose driver floor compat.json does not "
                f"know (it knows {', '.join(floors)}). Choose a build for one of those."
            )
            return floor, floor_from, reasons, error
        need_floor = _major(floors[str(major)])
        reasons.append(f"{need['what']}: CUDA {major}, driver >= {floors[str(major)]}")
        if need_floor > floor:
            floor, floor_from = need_floor, need
    return floor, floor_from, reasons, None


def _flavours(distribution, requested_open, modules):
    """(kernel module flavours to try, in order, True: open; error): what the GPU generations
    allow, open first (NVIDIA's default for Turing and newer since 560), or what was asked for."""
    if distribution == "Debian":
        if "proprietary" not in modules:
            return [], (
                "The GPU needs NVIDIA's open kernel modules, and Debian's nvidia-driver builds "
                "the proprietary ones. Use Ubuntu, or install the open modules by hand."
            )
        return [False], None
    if requested_open == "auto":
        return [f for f in (True, False) if _FLAVOUR[f] in modules], None
    if _FLAVOUR[requested_open] not in modules:
        return [], (
            f"nvidia_driver_open is {requested_open}, but the GPU needs "
            f"{' or '.join(sorted(modules))} kernel modules. Set nvidia_driver_open: auto."
        )
    return [requested_open], None


def _open_switch(value):
    """nvidia_driver_open as "auto", True or False (None when it is none of them)."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    return None


# --- the messages, rendered from the table -------------------------------------------------
_FROZEN_LIST_WARNING = (
    "apt lists no NVIDIA driver package on this host yet; the choice rests on the "
    "role's frozen list and is checked against apt again before the install"
)
_NO_GENERATION = (
    "GPU generation not given (nvidia_driver_gpu_generations): no per-generation limit applied"
)
# How the chosen branch was reached, per request.
_AUTO_SUPPORTED = (
    "auto: the newest packaged production or long-term branch, not past its end of life"
)
_AUTO_FITS = "auto: no packaged branch both fits and is supported; the newest that fits"


def _packaged_reason(distribution, listed, source):
    origin = "apt" if source == "apt" else "the role's frozen list (apt knows none yet)"
    return f"packaged by {distribution}: {listed} (from {origin})"


def _not_packaged(requested, distribution, listed, packaged):
    return (
        f"nvidia_driver_branch is {requested}, which {distribution} does not package "
        f"here{_moved(requested, packaged)}. Choose one of {listed} (or auto)."
    )


def _moved(requested, packaged):
    """ ", where nvidia-driver-535 is a transitional package for nvidia-driver-580", or ""."""
    name = f"nvidia-driver-{requested}"
    target = packaged.get("transitional", {}).get(name)
    return f" ({name} is only a transitional package for {target})" if target else ""


def _refusal(requested, listed, host, table, instead):
    """The error when no row is acceptable: each row's rejections, then what to change."""
    hint = _open_hint(instead)
    if requested != "auto":
        row = table[0]
        return (
            f"nvidia_driver_branch {row.branch} cannot serve this host: {'; '.join(row.rejected)}. "
            f"Choose another of {listed}, or auto." + (f" {hint}" if hint else "")
        )
    rows = sorted(table, key=lambda row: row.branch)
    details = "; ".join(f"{row.branch}: {', '.join(row.rejected)}" for row in rows)
    return f"No packaged driver branch serves this host ({details or 'none packaged'}). " + (
        hint or _fix_hint(host, table)
    )


def _open_hint(instead):
    """ "Set nvidia_driver_open: auto ..." when auto's modules would serve; else ""."""
    if instead is None:
        return ""
    return (
        f"Set nvidia_driver_open: auto (it would choose {instead.package}, "
        f"{_FLAVOUR[instead.open]} kernel modules)."
    )


def _fix_hint(host, table):
    """What to change when no packaged branch serves the host."""
    if host.devices and host.device_lists:
        serving = [row.branch for row in table if row.serves_gpus]
        ids = ", ".join(host.devices)
        if not serving:
            modules_words = (
                f" with {_FLAVOUR[host.flavours[0]]} kernel modules"
                if len(host.flavours) == 1 and host.distribution != "Debian"
                else ""
            )
            return (
                f"No packaged driver{modules_words} lists {ids} in {host.listed_in}: use a "
                "release of the distro that packages a driver for this GPU."
            )
        if host.floor_from is not None and max(serving) < host.floor:
            return (
                f"{host.floor_from['what']} needs a driver >= {host.floor}, and the newest "
                f"packaged branch listing {ids} ({host.lists_from}) is {max(serving)}: no "
                f"packaged driver runs both; {_OLDER_CUDA}."
            )
    return _limits_hint(host)


def _limits_hint(host):
    """What to change when the GPU generations' or the frameworks' limits leave no branch."""
    if host.floor_from is not None and host.high is not None and host.floor > host.high:
        return (
            f"{host.floor_from['what']} needs a driver >= {host.floor}, and the GPU's last branch "
            f"is {host.high}: no driver runs both; {_OLDER_CUDA}."
        )
    if host.floor_from is not None:
        return (
            f"{host.floor_from['what']} needs a newer driver than the distro packages: "
            f"{_OLDER_CUDA}, or move to a release that packages a newer branch."
        )
    if host.high is not None:
        return f"The GPU's last branch is {host.high}: use a distro release that still packages it."
    return "Use a release of the distro that packages a branch for this GPU."


def _modules_reason(chosen, modules, listed_all):
    """Why auto took these kernel modules, for the reasons."""
    if chosen.passed_over:
        # Open was preferred, and its package is missing or leaves a detected GPU out.
        return (
            f"kernel modules: proprietary ({'; '.join(chosen.passed_over)}; {chosen.package} "
            "lists them)"
        )
    if chosen.open and modules == {"open", "proprietary"}:
        if listed_all:
            return f"kernel modules: open (NVIDIA's default; {chosen.package} lists every GPU)"
        return "kernel modules: open (NVIDIA's default; every GPU given allows it)"
    return f"kernel modules: {_FLAVOUR[chosen.open]} (the GPU needs it)"


def _device_limit(host, chosen):
    """(device_limit, the reason that says it) for the chosen row."""
    ids = ", ".join(host.devices)
    if not host.devices:
        return (
            "none: no NVIDIA GPU detected on the PCI bus",
            "NVIDIA GPUs on the PCI bus: none detected, so no device limit applied",
        )
    if host.source != "apt" or not chosen.has_device_list:
        why = (
            "apt lists no driver package yet"
            if host.source != "apt"
            else _NO_LIST[host.lists_from].format(chosen.package)
        )
        return f"none: {why}", f"NVIDIA GPUs on the PCI bus: {ids}; no device limit applied: {why}"
    limit = _LIMIT_FROM[host.lists_from].format(chosen.package)
    return limit, (
        f"NVIDIA GPUs on the PCI bus: {ids}, each listed in {limit} "
        "(the packages' own lists of the GPUs they drive limit the choice)"
    )


def _end_of_life_warning(chosen):
    since = f"since {chosen.end_of_life}" if chosen.end_of_life else "NVIDIA no longer lists it"
    return (
        f"branch {chosen.branch} is past its end of life ({since}, compat.json's "
        "driver_branches); the distro may still patch it. A newer release of the distro "
        "packages newer branches."
    )


def _chosen_reason(chosen, requested):
    if requested != "auto":
        how = "nvidia_driver_branch"
    else:
        how = _AUTO_SUPPORTED if chosen.supported else _AUTO_FITS
    eol = f", end of life {chosen.end_of_life}" if chosen.end_of_life else ""
    return f"chose {chosen.branch} ({chosen.designation}{eol}): {how}"


class FilterModule:
    def filters(self):
        return {
            "nvidia_driver_packaged": nvidia_driver_packaged,
            "nvidia_driver_cuda_needs": nvidia_driver_cuda_needs,
            "nvidia_driver_choice": nvidia_driver_choice,
        }
