"""NVIDIA's and the frameworks' compatibility rules, judged per GPU.

Pure functions over facts the caller collected (NVML's driver and compute
capabilities, a framework's build, the kernel-module flavour) and the table in
compat.json, whose sections cite where each rule comes from. No I/O, no doctor
imports: the doctor's checks call these and turn the verdicts into findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from dlcheck.compat import major_minor, row_listing, table, version_at_least

OK = "ok"
WARN = "warn"
FAIL = "fail"

# How a build's arch list reaches one GPU.
SASS = "sass"  # a cubin for this GPU: runs on any driver of the build's CUDA major
PTX = "ptx"  # only PTX: the driver JIT-compiles it
PTX_TOO_OLD = "ptx_too_old"  # only PTX, from a CUDA older than the GPU: cannot target it
NONE = "none"  # nothing that runs on this GPU
UNKNOWN = "unknown"  # the build does not list its archs

_ARCH = re.compile(r"(sm|compute)_(\d+)(\d)([af]?)")


@dataclass(frozen=True)
class Gpu:
    index: int
    cc: str | None  # compute capability, '8.6'
    name: str | None = None

    @property
    def label(self) -> str:
        name = f"{self.name}, " if self.name else ""
        return f"GPU {self.index} ({name}compute capability {self.cc or '?'})"

    @property
    def sm(self) -> str:
        return "sm_" + (self.cc or "?").replace(".", "")


@dataclass(frozen=True)
class Build:
    """What a framework was built against, as it reports itself."""

    framework: str  # 'tensorflow', 'torch', 'jax'
    version: str | None
    cuda: str | None  # '12.5.1'; JAX's plugin gives the major only ('13')
    cudnn: str | None = None
    archs: tuple[str, ...] = ()  # empty: the build does not say

    @property
    def label(self) -> str:
        return f"{self.framework} {self.version}"


@dataclass(frozen=True)
class Verdict:
    status: str  # OK, WARN, FAIL
    code: str
    message: str
    hint: str | None = None


# --- facts from the table -------------------------------------------------------------


def generation(cc: str | None) -> dict[str, Any] | None:
    """The GPU generation (Kepler ... Blackwell) of a compute capability."""
    mm = major_minor(cc)
    if mm is None:
        return None
    return row_listing(table()["gpu_generations"]["generations"], "ccs", f"{mm[0]}.{mm[1]}")


def first_cuda(cc: str | None) -> str | None:
    """The first CUDA release that can build code for this compute capability."""
    gen = generation(cc)
    if gen is None:
        return None
    mm = major_minor(cc)
    return gen.get("first_cuda_by_cc", {}).get(f"{mm[0]}.{mm[1]}", gen["first_cuda"])


def driver_floor(cuda_major: int) -> str | None:
    """Minor-version compatibility: the lowest driver that runs every minor of a major."""
    return table()["cuda_driver_floor"]["by_cuda_major"].get(str(cuda_major))


def toolkit_driver(cuda: str | None) -> str | None:
    """The driver NVIDIA released with that toolkit: what PTX from it needs to JIT."""
    mm = major_minor(cuda)
    if mm is None:
        return None
    return table()["cuda_toolkit_driver"]["by_cuda"].get(f"{mm[0]}.{mm[1]}")


def _min_cc(cuda_major: int) -> str | None:
    entry = table()["cuda_majors"]["by_major"].get(str(cuda_major))
    return entry["min_cc"] if entry else None


def _branches() -> list[dict[str, Any]]:
    return table()["driver_branches"]["branches"]


def branch_of(driver: str | None) -> int | None:
    mm = major_minor(driver)
    return mm[0] if mm else None


def branch_end_of_life(branch: int, today: date) -> tuple[bool | None, str | None]:
    """(past end of life?, the date or None). None when the table cannot tell.

    NVIDIA lists the maintained branches; one older than the newest listed that is not
    in the list (R575, R560, ...) has reached its end of life.
    """
    listed = {b["branch"]: b for b in _branches()}
    entry = listed.get(branch)
    if entry is None:
        return (True, None) if branch < max(listed) else (None, None)
    if entry.get("maintained") is False:
        return True, entry.get("end_of_life")
    eol = entry.get("end_of_life")
    year, month = (int(part) for part in eol.split("-"))
    return (today.year, today.month) > (year, month), eol


def _last_branch(gpus: list[Gpu]) -> tuple[int | None, str | None]:
    """The newest driver branch every GPU still runs on, and the generation that limits it."""
    last: int | None = None
    who: str | None = None
    for gpu in gpus:
        gen = generation(gpu.cc)
        branch = gen.get("last_driver_branch") if gen else None
        if branch is not None and (last is None or branch < last):
            last, who = branch, gen["name"]
    return last, who


def supported_branch(gpus: list[Gpu], at_least: int, today: date) -> dict[str, Any] | None:
    """A maintained branch >= at_least that runs every GPU: long term support first."""
    last, _ = _last_branch(gpus)
    fits = [
        b
        for b in _branches()
        if b["branch"] >= at_least
        and (last is None or b["branch"] <= last)
        and branch_end_of_life(b["branch"], today)[0] is False
    ]
    fits.sort(key=lambda b: (b["designation"] != "long term support", b["branch"]))
    return fits[0] if fits else None


# --- arch coverage --------------------------------------------------------------------


def _runs_on(cc: tuple[int, int], major: int, minor: int, suffix: str, kind: str) -> bool:
    """NVIDIA's rules for one target: 'a' exact, 'f' family, sm_ same major, compute_ forward."""
    if suffix == "a":
        return cc == (major, minor)
    if suffix == "f" or kind == "sm":
        return cc[0] == major and cc[1] >= minor
    return cc >= (major, minor)


def coverage(cc: str | None, archs: tuple[str, ...] | list[str], build_cuda: str | None) -> str:
    """How a build with these arch targets reaches a GPU: SASS, PTX, PTX_TOO_OLD or NONE."""
    have = major_minor(cc)
    if have is None or not archs:
        return UNKNOWN
    ptx = False
    for arch in archs:
        match = _ARCH.fullmatch(arch.strip().lower())
        if not match:
            continue
        kind, major, minor, suffix = (
            match.group(1),
            int(match.group(2)),
            int(match.group(3)),
            match.group(4),
        )
        if _runs_on(have, major, minor, suffix, kind):
            if kind == "sm":
                return SASS
            ptx = True
    if not ptx:
        return NONE
    built, first = major_minor(build_cuda), major_minor(first_cuda(cc))
    if built and first and built < first:
        return PTX_TOO_OLD
    return PTX


# --- hints ----------------------------------------------------------------------------


def driver_hint(min_driver: str, gpus: list[Gpu], today: date) -> str:
    """Install a driver >= min_driver, never a branch that drops one of these GPUs."""
    need = branch_of(min_driver) or 0
    last, who = _last_branch(gpus)
    if last is not None and last < need:
        return (
            f"no driver runs both: {who} GPUs stop at the {last} branch, below the {need} "
            f"this build needs; use a build for an older CUDA that {who} GPUs still run"
        )
    branch = supported_branch(gpus, need, today)
    if branch is None:
        return f"install NVIDIA driver {min_driver} or newer"
    return (
        f"install NVIDIA driver {min_driver} or newer: the {branch['branch']} branch "
        f"({branch['designation']}, maintained until {branch['end_of_life']})"
    )


def tensorflow_for(gpu: Gpu, driver_cuda: str | None = None) -> dict[str, Any] | None:
    """The newest TensorFlow build row with code for the GPU (PTX only if the driver JITs it)."""
    have = major_minor(driver_cuda)
    for row in table()["tensorflow"]["builds"]:  # newest first
        how = coverage(gpu.cc, row["archs"], row["cuda"])
        built = major_minor(row["cuda"])
        if how == SASS or (how == PTX and (have is None or (built and built <= have))):
            return row
    return None


def build_hint(framework: str, gpu: Gpu, driver_cuda: str | None = None) -> str:
    """A build of this framework that has code for the GPU, never one that lacks it."""
    first = first_cuda(gpu.cc) or "?"
    gen = generation(gpu.cc)
    if framework == "tensorflow":
        row = tensorflow_for(gpu, driver_cuda)
        if row is not None:
            return (
                f"pip install 'tensorflow[and-cuda]=={row['versions'][-1]}.*' "
                f"(built for {', '.join(row['archs'])})"
            )
        return (
            f"no TensorFlow release in the table has code for {gpu.sm}: build TensorFlow "
            f"from source for {gpu.sm} with CUDA {first} or newer, or use a framework build "
            f"that lists {gpu.sm} (e.g. PyTorch for CUDA {first} or newer)"
        )
    if framework == "jax":
        plugin = jax_plugin_for(gpu)
        return f"pip install 'jax[{plugin}]'" if plugin else "no JAX CUDA plugin supports this GPU"
    majors = _cuda_majors_for(gpu)
    newest = max(int(m) for m in table()["cuda_majors"]["by_major"])
    dropped = bool(majors) and majors[-1] < newest
    span = f"CUDA {first} up to CUDA {majors[-1]}.x" if dropped else f"CUDA {first} or newer"
    name = gen["name"] if gen else "this"
    return f"install a {framework} build whose arch list has {gpu.sm} ({name} GPUs: {span})"


def _cuda_majors_for(gpu: Gpu) -> list[int]:
    """CUDA majors that still build code for the GPU (CUDA 13 dropped Maxwell to Volta)."""
    cc = major_minor(gpu.cc)
    out = []
    for major, entry in sorted(table()["cuda_majors"]["by_major"].items()):
        if cc is not None and cc >= (major_minor(entry["min_cc"]) or (0, 0)):
            out.append(int(major))
    return out


def jax_plugin_for(gpu: Gpu, driver: str | None = None) -> str | None:
    """The jax[cudaNN] extra for a GPU (and driver): the newest plugin that runs both."""
    plugins = table()["jax"]["plugins"]
    for major in sorted(plugins, key=int, reverse=True):
        spec = plugins[major]
        cc_ok = (major_minor(gpu.cc) or (0, 0)) >= (major_minor(spec["min_cc"]) or (99, 0))
        driver_ok = driver is None or version_at_least(driver, spec["min_driver"]) is not False
        if cc_ok and driver_ok:
            return str(spec["extra"])
    return None


def extra_for_host(extra: str, gpu_host: bool) -> str:
    """dlcheck's pip extra for a framework: never the CPU-only TensorFlow ('tf') on a GPU host."""
    return "tf-gpu" if gpu_host and extra == "tf" else extra


# --- the rules ------------------------------------------------------------------------


def judge_build(
    build: Build, gpus: list[Gpu], driver: str | None, driver_cuda: str | None, today: date
) -> list[Verdict]:
    """One framework build against the driver and every GPU, each GPU on its own."""
    out: list[Verdict] = []
    need, have = major_minor(build.cuda), major_minor(driver_cuda)
    if need is not None:
        floor = driver_floor(need[0])
        below = floor is not None and version_at_least(driver, floor) is False
        if below or (have is not None and have[0] < need[0]):
            out.append(
                Verdict(
                    FAIL,
                    "compat.driver_below_cuda_major",
                    f"{build.label} is built for CUDA {build.cuda}; driver {driver} "
                    f"(CUDA {driver_cuda}) is below CUDA {need[0]}'s minimum driver {floor}",
                    driver_hint(floor or "", gpus, today),
                )
            )
    for gpu in gpus:
        out.extend(_judge_gpu(build, gpu, driver, driver_cuda, today))
    if build.framework == "jax":
        out.extend(_judge_jax(build, gpus))
    if not any(v.status != OK for v in out):
        out.append(_covered(build, gpus))
    return out


def _judge_gpu(
    build: Build, gpu: Gpu, driver: str | None, driver_cuda: str | None, today: date
) -> list[Verdict]:
    need, have = major_minor(build.cuda), major_minor(driver_cuda)
    how = coverage(gpu.cc, build.archs, build.cuda)
    archs = ", ".join(build.archs)
    if how == PTX and need and have and have < need:
        jit_driver = toolkit_driver(build.cuda)  # none listed once NVIDIA unbundled it
        fix = (
            driver_hint(jit_driver, [gpu], today)
            if jit_driver
            else f"install an NVIDIA driver that supports CUDA {need[0]}.{need[1]} (nvidia-smi)"
        )
        return [
            Verdict(
                FAIL,
                "compat.ptx_needs_newer_driver",
                f"{gpu.label}: {build.label} has only PTX for it ({archs}); JIT-compiling "
                f"PTX from CUDA {build.cuda} needs a driver of CUDA {need[0]}.{need[1]}, "
                f"driver {driver} has CUDA {driver_cuda}",
                f"{fix}, or {build_hint(build.framework, gpu, driver_cuda)}",
            )
        ]
    if how == PTX_TOO_OLD:
        return [
            Verdict(
                FAIL,
                "compat.ptx_too_old",
                f"{gpu.label}: {build.label} has no code for {gpu.sm}, only PTX from CUDA "
                f"{build.cuda} ({archs}), older than the CUDA {first_cuda(gpu.cc)} that "
                f"{gpu.sm} needs",
                build_hint(build.framework, gpu),
            )
        ]
    if how == NONE:
        dropped = ""
        min_cc = _min_cc(need[0]) if need else None
        if min_cc and (major_minor(gpu.cc) or (0, 0)) < (major_minor(min_cc) or (0, 0)):
            dropped = f"; CUDA {need[0]} builds no code below compute capability {min_cc}"
        return [
            Verdict(
                FAIL,
                "compat.arch_unsupported",
                f"{gpu.label}: {build.label} has no code for it (built for {archs}){dropped}",
                build_hint(build.framework, gpu),
            )
        ]
    if how == UNKNOWN and need and build.framework != "jax":  # JAX's plugin floors: _judge_jax
        min_cc = _min_cc(need[0])
        cc = major_minor(gpu.cc)
        if min_cc and cc and cc < (major_minor(min_cc) or (0, 0)):
            return [
                Verdict(
                    FAIL,
                    "compat.cuda_major_drops_gpu",
                    f"{gpu.label}: {build.label} is built for CUDA {need[0]}, which builds no "
                    f"code below compute capability {min_cc}",
                    build_hint(build.framework, gpu),
                )
            ]
    return []


def _judge_jax(build: Build, gpus: list[Gpu]) -> list[Verdict]:
    out: list[Verdict] = []
    spec = table()["jax"]
    plugin = spec["plugins"].get(str((major_minor(build.cuda) or (0, 0))[0]))
    cudnn = major_minor(build.cudnn)
    if cudnn is not None and cudnn < (major_minor(spec["cudnn_min"]) or (0, 0)):
        out.append(
            Verdict(
                FAIL,
                "compat.jax_cudnn_too_old",
                f"{build.label} loads cuDNN {build.cudnn}; JAX needs cuDNN {spec['cudnn_min']} "
                "or newer (below 10)",
                f"pip install -U 'jax[{plugin['extra'] if plugin else 'cuda13'}]' (brings cuDNN 9 "
                "wheels); unset LD_LIBRARY_PATH if it names an older cuDNN",
            )
        )
    if plugin:
        for gpu in gpus:
            cc = major_minor(gpu.cc)
            if cc and cc < (major_minor(plugin["min_cc"]) or (0, 0)):
                out.append(
                    Verdict(
                        FAIL,
                        "compat.jax_plugin_drops_gpu",
                        f"{gpu.label}: jax-{plugin['extra']}-plugin needs compute capability "
                        f"{plugin['min_cc']} or newer",
                        build_hint("jax", gpu),
                    )
                )
    return out


def _covered(build: Build, gpus: list[Gpu]) -> Verdict:
    parts = []
    for gpu in gpus:
        how = coverage(gpu.cc, build.archs, build.cuda)
        what = {SASS: "compiled code", PTX: "PTX (JIT on first use)"}.get(how, "archs not listed")
        parts.append(f"GPU {gpu.index}: {what}")
    cuda = f"CUDA {build.cuda}" + (f", cuDNN {build.cudnn}" if build.cudnn else "")
    return Verdict(
        OK,
        "compat.ok",
        f"{build.label} ({cuda}) runs on this driver and GPUs ({'; '.join(parts)})",
    )


def judge_driver_branch(driver: str | None, gpus: list[Gpu], today: date) -> list[Verdict]:
    """A branch past its end of life works, but gets no fixes: a warning naming one that does."""
    branch = branch_of(driver)
    if branch is None:
        return []
    past, eol = branch_end_of_life(branch, today)
    if not past:
        return []
    when = f" ({eol})" if eol else ""
    fix = supported_branch(gpus, branch, today)
    last, who = _last_branch(gpus)
    if fix is not None:
        hint = (
            f"move to the {fix['branch']} branch ({fix['designation']}, maintained until "
            f"{fix['end_of_life']})"
        )
    elif last is not None:
        hint = (
            f"the {last} branch is the last for {who} GPUs and no maintained branch runs "
            f"them: keep {branch} knowing it gets no fixes, or replace the GPU"
        )
    else:
        hint = "move to a maintained driver branch"
    return [
        Verdict(
            WARN,
            "compat.driver_branch_eol",
            f"driver {driver}: the {branch} branch has reached its end of life{when}",
            hint,
        )
    ]


def judge_kernel_modules(flavour: str | None, gpus: list[Gpu]) -> list[Verdict]:
    """Blackwell runs only on the open modules; GPUs before Turing only on the proprietary."""
    if flavour not in ("open", "proprietary"):
        return []
    out = []
    for gpu in gpus:
        gen = generation(gpu.cc)
        if gen is None or flavour in gen["kernel_modules"]:
            continue
        other = gen["kernel_modules"][0]
        out.append(
            Verdict(
                FAIL,
                f"gpu.needs_{other}_kernel_modules",
                f"{gpu.label}: {gen['name']} GPUs run only on NVIDIA's {other} kernel modules, "
                f"and the {flavour} ones are loaded",
                f"install the {other} flavour of the same driver (the .run installer's "
                f"-M={other}, or the distribution's {'-open ' if other == 'open' else ''}"
                "driver package), then reboot",
            )
        )
    return out
