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

Errors are returned, not raised: the role's assert prints them as its one-line message.
"""

import re

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
    origin = "apt" if packaged["source"] == "apt" else "the role's frozen list (apt knows none yet)"
    reason.append(f"packaged by {distribution}: {listed} (from {origin})")
    if packaged["source"] != "apt":
        result["warnings"].append(
            "apt lists no NVIDIA driver package on this host yet; the choice rests on the "
            "role's frozen list and is checked against apt again before the install"
        )

    requested_open = _open_switch(requested_open)
    if requested_open is None:
        return dict(result, error="nvidia_driver_open must be auto, true or false.")
    low, high, modules, gen_reasons, error = _generation_limits(generations, compat)
    if error:
        return dict(result, error=error)
    reason.extend(
        gen_reasons
        or [
            "GPU generation not given (nvidia_driver_gpu_generations): "
            "no per-generation limit applied"
        ]
    )

    floors = compat["cuda_driver_floor"]["by_cuda_major"]
    floor, floor_from = 0, None
    for need in needs:
        major = need.get("cuda_major")
        if major is None:
            reason.append(f"{need['what']}: CUDA major not known to compat.json, not checked")
            continue
        if str(major) not in floors:
            return dict(
                result,
                error=(
                    f"{need['what']} needs CUDA {major}, whose driver floor compat.json does not "
                    f"know (it knows {', '.join(floors)}). Choose a build for one of those."
                ),
            )
        need_floor = _major(floors[str(major)])
        reason.append(f"{need['what']}: CUDA {major}, driver >= {floors[str(major)]}")
        if need_floor > floor:
            floor, floor_from = need_floor, need

    # Kernel module flavours (True: open) in order of preference: what the GPU generations
    # allow, open first (NVIDIA's default for Turing and newer since 560), or what was asked for.
    if distribution == "Debian":
        if "proprietary" not in modules:
            return dict(
                result,
                error=(
                    "The GPU needs NVIDIA's open kernel modules, and Debian's nvidia-driver builds "
                    "the proprietary ones. Use Ubuntu, or install the open modules by hand."
                ),
            )
        flavours = [False]
    elif requested_open == "auto":
        flavours = [f for f in (True, False) if _FLAVOUR[f] in modules]
    else:
        if _FLAVOUR[requested_open] not in modules:
            return dict(
                result,
                error=(
                    f"nvidia_driver_open is {requested_open}, but the GPU needs "
                    f"{' or '.join(sorted(modules))} kernel modules. Set nvidia_driver_open: auto."
                ),
            )
        flavours = [requested_open]
    aliases = {name: set(ids) for name, ids in (packaged.get("device_lists") or {}).items()}
    lists_from = packaged.get("device_lists_from", "Modaliases")
    listed_in = _LISTED_IN[lists_from]
    # Without detected GPUs, or without any Modaliases to check them against, the first flavour
    # stands; with both, a branch falls back to the next flavour whose package lists the GPUs.
    candidates = flavours if devices and aliases else flavours[:1]

    def suffix(want_open):
        return "" if distribution == "Debian" else _SUFFIX[(bool(server), want_open)]

    def package(branch, want_open):
        if distribution == "Debian":
            return "nvidia-driver"
        return f"nvidia-driver-{branch}{suffix(want_open)}"

    def unlisted(name):
        """The detected GPUs `name`'s Modaliases leave out; None when it carries no Modaliases."""
        return None if name not in aliases else [d for d in devices if d not in aliases[name]]

    def flavour(branch):
        """(open?, whether its package serves the GPUs, why the flavours before it do not)."""
        why = []
        for want_open in candidates:
            name = package(branch, want_open)
            if suffix(want_open) not in available.get(branch, ()):
                why.append(f"no package {name}")
                continue
            missing = unlisted(name)
            if not missing:
                return want_open, True, why
            why.append(f"{name} does not list {', '.join(missing)} in {listed_in}")
        return candidates[0], False, why

    def rejects(branch):
        """Why `branch` cannot serve this host (hard limits), or an empty list."""
        _open, served, why = flavour(branch)
        why = [] if served else list(why)
        if branch < low:
            why.append(f"older than {low}, the first for the GPU")
        if high is not None and branch > high:
            why.append(f"newer than {high}, the last for the GPU")
        if branch < floor:
            why.append(f"older than {floor}, which {floor_from['what']} needs")
        return why

    def open_hint():
        """ "Set nvidia_driver_open: auto ..." when the asked modules alone keep the GPUs out."""
        if requested_open != "auto" and distribution != "Debian" and devices:
            alternative = nvidia_driver_choice(
                packaged,
                compat,
                requested=requested,
                server=server,
                generations=generations,
                needs=needs,
                today=today,
                distribution=distribution,
                devices=devices,
            )
            if not alternative["error"]:
                return (
                    f"Set nvidia_driver_open: auto (it would choose {alternative['package']}, "
                    f"{'open' if alternative['open'] else 'proprietary'} kernel modules)."
                )
        return ""

    def fix_hint():
        """What to change when no branch serves the host."""
        hint = open_hint()
        if hint:
            return hint
        if devices and aliases:
            serving = [b for b in available if flavour(b)[1]]
            ids = ", ".join(devices)
            if not serving:
                modules_words = (
                    f" with {_FLAVOUR[candidates[0]]} kernel modules"
                    if len(flavours) == 1 and distribution != "Debian"
                    else ""
                )
                return (
                    f"No packaged driver{modules_words} lists {ids} in {listed_in}: use a "
                    "release of the distro that packages a driver for this GPU."
                )
            if floor_from is not None and max(serving) < floor:
                return (
                    f"{floor_from['what']} needs a driver >= {floor}, and the newest packaged "
                    f"branch listing {ids} ({lists_from}) is {max(serving)}: no packaged driver "
                    f"runs both; {_OLDER_CUDA}."
                )
        return _fix_hint(floor_from, floor, high)

    if requested != "auto":
        branch = int(requested) if str(requested).isdigit() else -1
        if branch not in available:
            return dict(
                result,
                error=(
                    f"nvidia_driver_branch is {requested}, which {distribution} does not package "
                    f"here{_moved(requested, packaged)}. Choose one of {listed} (or auto)."
                ),
            )
        why = rejects(branch)
        if why:
            hint = open_hint()
            return dict(
                result,
                error=(
                    f"nvidia_driver_branch {branch} cannot serve this host: {'; '.join(why)}. "
                    f"Choose another of {listed}, or auto." + (f" {hint}" if hint else "")
                ),
            )
        chosen, how = branch, "nvidia_driver_branch"
    else:
        fit = [b for b in sorted(available, reverse=True) if not rejects(b)]
        if not fit:
            details = "; ".join(f"{b}: {', '.join(rejects(b))}" for b in sorted(available))
            return dict(
                result,
                error=(
                    f"No packaged driver branch serves this host ({details or 'none packaged'}). "
                    + fix_hint()
                ),
            )
        good = [b for b in fit if _supported(b, compat, today)]
        if good:
            chosen = good[0]
            how = (
                "auto: the newest packaged production or long-term branch, not past its end of life"
            )
        else:
            chosen = fit[0]
            how = "auto: no packaged branch both fits and is supported; the newest that fits"
    want_open, _served, passed_over = flavour(chosen)
    chosen_package = package(chosen, want_open)
    if distribution != "Debian" and requested_open == "auto":
        listed_all = bool(devices) and unlisted(chosen_package) == []
        reason.append(_modules_reason(want_open, modules, chosen_package, listed_all, passed_over))
    ids = ", ".join(devices)
    if not devices:
        result["device_limit"] = "none: no NVIDIA GPU detected on the PCI bus"
        reason.append("NVIDIA GPUs on the PCI bus: none detected, so no device limit applied")
    elif packaged["source"] != "apt" or unlisted(chosen_package) is None:
        why = (
            "apt lists no driver package yet"
            if packaged["source"] != "apt"
            else _NO_LIST[lists_from].format(chosen_package)
        )
        result["device_limit"] = f"none: {why}"
        reason.append(f"NVIDIA GPUs on the PCI bus: {ids}; no device limit applied: {why}")
    else:
        result["device_limit"] = _LIMIT_FROM[lists_from].format(chosen_package)
        reason.append(
            f"NVIDIA GPUs on the PCI bus: {ids}, each listed in {result['device_limit']} "
            "(the packages' own lists of the GPUs they drive limit the choice)"
        )
    designation, eol, past = _branch_status(chosen, compat, today)
    if past:
        since = f"since {eol}" if eol else "NVIDIA no longer lists it"
        result["warnings"].append(
            f"branch {chosen} is past its end of life ({since}, compat.json's driver_branches); "
            "the distro may still patch it. A newer release of the distro packages newer branches."
        )
    result.update(branch=str(chosen), open=want_open, package=chosen_package)
    reason.append(f"chose {chosen} ({designation}{', end of life ' + eol if eol else ''}): {how}")
    return dict(result, error="")


def _modules_reason(want_open, modules, chosen_package, listed_all, passed_over):
    """Why auto took these kernel modules, for the reasons."""
    if passed_over:
        # Open was preferred, and its package is missing or leaves a detected GPU out.
        return (
            f"kernel modules: proprietary ({'; '.join(passed_over)}; {chosen_package} lists them)"
        )
    if want_open and modules == {"open", "proprietary"}:
        if listed_all:
            return f"kernel modules: open (NVIDIA's default; {chosen_package} lists every GPU)"
        return "kernel modules: open (NVIDIA's default; every GPU given allows it)"
    return f"kernel modules: {_FLAVOUR[want_open]} (the GPU needs it)"


def _moved(requested, packaged):
    """ ", where nvidia-driver-535 is a transitional package for nvidia-driver-580", or ""."""
    name = f"nvidia-driver-{requested}"
    target = packaged.get("transitional", {}).get(name)
    return f" ({name} is only a transitional package for {target})" if target else ""


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


def _supported(branch, compat, today):
    designation, _eol, past = _branch_status(branch, compat, today)
    return designation in AUTO_DESIGNATIONS and not past


def _fix_hint(floor_from, floor, high):
    older = _OLDER_CUDA
    if floor_from is not None and high is not None and floor > high:
        return (
            f"{floor_from['what']} needs a driver >= {floor}, and the GPU's last branch is "
            f"{high}: no driver runs both; {older}."
        )
    if floor_from is not None:
        return (
            f"{floor_from['what']} needs a newer driver than the distro packages: {older}, "
            "or move to a release that packages a newer branch."
        )
    if high is not None:
        return f"The GPU's last branch is {high}: use a distro release that still packages it."
    return "Use a release of the distro that packages a branch for this GPU."


class FilterModule:
    def filters(self):
        return {
            "nvidia_driver_packaged": nvidia_driver_packaged,
            "nvidia_driver_cuda_needs": nvidia_driver_cuda_needs,
            "nvidia_driver_choice": nvidia_driver_choice,
        }
