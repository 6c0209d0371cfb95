"""The driver-branch choice (plugins/filter/nvidia_driver_branch.py) against the real compat.json.

The apt answers below are in the exact shape apt-cache prints them; the branch lists are the
ones the releases package (the role's vars/<distro>.yml cite where they were read). `today` is
passed in, so the end-of-life dates are judged on a fixed day.
"""

from __future__ import annotations

import json

import pytest
from plugin_loader import REPO, load_plugin

plugin = load_plugin("plugins/filter/nvidia_driver_branch.py")
packaged = plugin.nvidia_driver_packaged
choice = plugin.nvidia_driver_choice
cuda_needs = plugin.nvidia_driver_cuda_needs

COMPAT = json.loads((REPO / "dlcheck/compat/compat.json").read_text())
TODAY = "2026-11"


DATA = REPO / "tests/unit/ansible/data"


def ubuntu(*branches: str, variants=("", "-open", "-server", "-server-open"), extra=()) -> dict:
    """nvidia_driver_packaged of apt's answers on an Ubuntu that packages `branches`.

    Each branch's metapackages depend on their own branch's packages, as the real ones do;
    `extra` adds (name, depends) records, e.g. a transitional package.
    """
    names = ["nvidia-driver-assistant", "nvidia-driver-libs"]
    records = []
    for branch in branches:
        for variant in variants:
            names.append(f"nvidia-driver-{branch}{variant}")
            records.append((names[-1], f"libnvidia-gl-{branch}, nvidia-dkms-{branch}{variant}"))
    for name, depends in extra:
        names.append(name)
        records.append((name, depends))
    show = "\n\n".join(f"Package: {n}\nVersion: 1\nDepends: {d}" for n, d in records)
    return packaged(names, distribution="Ubuntu", show=show)


def ubuntu_release(version: str) -> dict:
    """Ubuntu `version` as apt answered on a fresh target, 2026-11-30: `apt-cache show
    --no-all-versions` of every name `apt-cache pkgnames nvidia-driver-` listed (Package,
    Version, Depends and Description kept; Modaliases added from the archive's Packages by
    data/add_modaliases.py)."""
    show = (DATA / f"ubuntu-{version}-nvidia-driver-show.txt").read_text()
    names = [line.split()[1] for line in show.splitlines() if line.startswith("Package:")]
    return packaged(names, distribution="Ubuntu", show=show)


UBUNTU_22 = ubuntu_release("22.04")
UBUNTU_24 = ubuntu_release("24.04")
UBUNTU_26 = ubuntu_release("26.04")
DEBIAN_12_MADISON = [
    " nvidia-driver | 535.261.03-1~deb12u1 | http://mirror.example/debian "
    "bookworm/non-free amd64 Packages",
    " nvidia-driver | 535.216.01-1~deb12u1 | http://mirror.example/debian-security "
    "bookworm-security/non-free amd64 Packages",
]
DEBIAN_12 = packaged([], DEBIAN_12_MADISON, "Debian")
TF = [{"what": "tensorflow 2.21.0", "cuda_major": "12"}]
TORCH_13 = [{"what": "torch", "cuda_major": "13"}]


def choose(pk, **kwargs):
    kwargs.setdefault("today", TODAY)
    return choice(pk, COMPAT, **kwargs)


# --- what apt says -----------------------------------------------------------------------


def test_ubuntu_24_04_as_apt_answered() -> None:
    # Only the names that depend on no other branch's metapackage are branches.
    assert UBUNTU_24["source"] == "apt"
    assert UBUNTU_24["branches"] == {
        "470": ["", "-server"],
        "580": ["", "-open", "-server", "-server-open"],
        "595": ["", "-open"],
    }
    assert UBUNTU_24["transitional"]["nvidia-driver-535"] == "nvidia-driver-580"
    assert UBUNTU_24["transitional"]["nvidia-driver-590-open"] == "nvidia-driver-595-open"
    assert "nvidia-driver-470" not in UBUNTU_24["transitional"]


def test_ubuntu_22_04_and_26_04_as_apt_answered() -> None:
    assert list(UBUNTU_22["branches"]) == ["390", "418", "470", "545", "580"]
    assert UBUNTU_22["branches"]["418"] == ["-server"]
    assert list(UBUNTU_26["branches"]) == ["580", "595"]
    # A chain: 550-server -> 570-server, itself transitional for 580-server.
    assert UBUNTU_22["transitional"]["nvidia-driver-550-server"] == "nvidia-driver-570-server"
    assert "nvidia-driver-570-server" in UBUNTU_22["transitional"]


@pytest.mark.parametrize(
    ("release", "generations", "package"),
    [
        (UBUNTU_22, [], "nvidia-driver-580-open"),
        (UBUNTU_22, ["Blackwell"], "nvidia-driver-580-open"),
        (UBUNTU_24, [], "nvidia-driver-595-open"),
        (UBUNTU_24, ["Volta"], "nvidia-driver-580"),
        (UBUNTU_26, [], "nvidia-driver-595-open"),
        (UBUNTU_26, ["Maxwell"], "nvidia-driver-580"),
    ],
)
def test_auto_on_each_ubuntu_release(release, generations, package) -> None:
    out = choose(release, generations=generations, needs=TF)
    assert (out["error"], out["package"]) == ("", package)


def test_kepler_with_tensorflow_on_cuda_12_cannot_be_served() -> None:
    # 470, Kepler's last branch, is older than CUDA 12's floor (525.60.13).
    out = choose(UBUNTU_22, generations=["Kepler"], needs=TF)
    assert "the GPU's last branch is 470: no driver runs both" in out["error"]
    assert choose(UBUNTU_22, generations=["Kepler"])["package"] == "nvidia-driver-470"


def test_nvidia_repository_branches_are_reported_apart() -> None:
    pk = packaged(["cuda-drivers-580", "cuda-drivers-590", "cuda-drivers"], show="")
    assert pk["nvidia_repo"] == ["580", "590"]
    assert pk["branches"] == {}


def test_debian_madison_gives_the_non_free_branch_only() -> None:
    nvidia = (
        " nvidia-driver | 580.95.05-1 | https://repo.example/cuda/repos/debian12/x86_64  Packages"
    )
    pk = packaged([], DEBIAN_12_MADISON + [nvidia], "Debian")
    assert pk["branches"] == {"535": [""]}
    assert pk["source"] == "apt"


def test_debian_13_single_branch() -> None:
    line = " nvidia-driver | 550.163.01-2 | http://mirror.example/d trixie/non-free amd64 Packages"
    assert packaged([], [line], "Debian")["branches"] == {"550": [""]}


def test_empty_apt_falls_back_to_the_frozen_list_and_says_so() -> None:
    pk = packaged([], [], "Debian", fallback=["535"])
    assert pk["branches"] == {"535": [""]} and pk["source"] == "fallback"
    out = choose(pk, distribution="Debian", needs=TF)
    assert out["branch"] == "535"
    assert "frozen list" in " ".join(out["reason"])
    assert any("checked against apt again" in w for w in out["warnings"])


def test_nothing_packaged_and_no_fallback() -> None:
    out = choose(packaged([], [], "Debian"), distribution="Debian")
    assert out["branch"] == ""
    assert "No packaged driver branch serves this host (none packaged)" in out["error"]


# --- auto --------------------------------------------------------------------------------


def test_ubuntu_auto_without_a_known_gpu_takes_the_newest_supported_branch() -> None:
    # 595 is production until 2027-03; 590 is unlisted and older than 620, so past its end of life.
    out = choose(UBUNTU_24, needs=TF)
    assert out["error"] == ""
    assert (out["branch"], out["open"], out["package"]) == ("595", True, "nvidia-driver-595-open")
    assert out["warnings"] == []


def test_ubuntu_auto_skips_an_end_of_life_branch_newer_than_the_supported_one() -> None:
    pk = ubuntu("570", "580", "590")
    out = choose(pk)
    assert out["branch"] == "580"
    assert "long term support" in out["reason"][-1]


def test_ubuntu_server_flavour() -> None:
    pk = ubuntu("580", extra=[("nvidia-driver-595", "nvidia-dkms-595")])
    out = choose(pk, server=True)
    assert out["package"] == "nvidia-driver-580-server-open"


def test_new_feature_branch_is_not_picked_by_auto() -> None:
    out = choose(ubuntu("580", "610"))
    assert out["branch"] == "580"


@pytest.mark.parametrize(
    ("generation", "branch", "open_modules"),
    [
        ("Maxwell", "580", False),
        ("Pascal", "580", False),
        ("Volta", "580", False),
        ("Turing", "595", True),
        ("Ampere", "595", True),
        ("Ada", "595", True),
        ("Hopper", "595", True),
        ("Blackwell", "595", True),
    ],
)
def test_generation_limits_the_branch_and_the_modules(generation, branch, open_modules) -> None:
    out = choose(UBUNTU_24, generations=[generation], needs=TF)
    assert out["error"] == ""
    assert (out["branch"], out["open"]) == (branch, open_modules)
    suffix = "-open" if open_modules else ""
    assert out["package"] == f"nvidia-driver-{branch}{suffix}"
    assert any(r.startswith(f"{generation} GPU") for r in out["reason"])


def test_kepler_gets_470_past_its_end_of_life_with_a_warning() -> None:
    pk = ubuntu("535", "580", extra=[("nvidia-driver-470", "nvidia-dkms-470")])
    out = choose(pk, generations=["Kepler"])
    assert (out["branch"], out["open"], out["package"]) == ("470", False, "nvidia-driver-470")
    assert any("past its end of life" in w for w in out["warnings"])


def test_kepler_where_470_is_not_packaged() -> None:
    out = choose(ubuntu("535", "580"), generations=["Kepler"])
    assert "No packaged driver branch serves this host" in out["error"]
    assert "newer than 470, the last for the GPU" in out["error"]
    assert "still packages it" in out["error"]


def test_blackwell_needs_a_branch_that_knows_it() -> None:
    # Blackwell's first CUDA is 12.8, whose driver is 570: 535 and 550 cannot drive it.
    pk = ubuntu("535", "550")
    out = choose(pk, generations=["Blackwell"])
    assert "older than 570, the first for the GPU" in out["error"]


def test_blackwell_on_debian_needs_open_modules_debian_does_not_build() -> None:
    out = choose(DEBIAN_12, distribution="Debian", generations=["Blackwell"])
    assert "open kernel modules" in out["error"]


def test_mixed_generations_that_need_different_modules() -> None:
    out = choose(UBUNTU_24, generations=["Pascal", "Blackwell"])
    assert "need different kernel modules" in out["error"]


def test_unknown_generation_is_named() -> None:
    out = choose(UBUNTU_24, generations=["Fermi"])
    assert "nvidia_driver_gpu_generations names Fermi" in out["error"]
    assert "Kepler" in out["error"]


def test_proprietary_asked_for_a_blackwell() -> None:
    out = choose(UBUNTU_24, generations=["Blackwell"], requested_open=False)
    assert "nvidia_driver_open is False" in out["error"]


def test_open_asked_for_a_pascal() -> None:
    out = choose(UBUNTU_24, generations=["Pascal"], requested_open=True)
    assert "needs proprietary kernel modules" in out["error"]


# --- Debian's one branch -----------------------------------------------------------------


def test_debian_12_auto_takes_535_and_warns_it_is_past_its_end_of_life() -> None:
    out = choose(DEBIAN_12, distribution="Debian", needs=TF)
    assert (out["branch"], out["open"], out["package"]) == ("535", False, "nvidia-driver")
    assert any("535 is past its end of life (since 2026-06" in w for w in out["warnings"])
    assert "tensorflow 2.21.0: CUDA 12, driver >= 525.60.13" in out["reason"]


def test_debian_12_before_its_end_of_life_has_no_warning() -> None:
    out = choose(DEBIAN_12, distribution="Debian", today="2026-05")
    assert out["branch"] == "535" and out["warnings"] == []


# --- the frameworks' CUDA ----------------------------------------------------------------


def test_cuda_13_framework_on_debian_12_fails_naming_the_fix() -> None:
    out = choose(DEBIAN_12, distribution="Debian", needs=TORCH_13)
    assert out["branch"] == ""
    assert "535: older than 580, which torch needs" in out["error"]
    assert "frameworks_torch_index_url" in out["error"]


def test_cuda_13_framework_and_a_kepler_cannot_meet() -> None:
    out = choose(UBUNTU_24, needs=TORCH_13, generations=["Kepler"])
    assert "470: older than 580, which torch needs" in out["error"]
    assert "the GPU's last branch is 470: no driver runs both" in out["error"]


def test_cuda_13_framework_raises_the_ubuntu_floor_to_580() -> None:
    pk = ubuntu("535", "570", "580")
    assert choose(pk, needs=TORCH_13)["branch"] == "580"


def test_cuda_13_framework_and_a_pascal_meet_at_580() -> None:
    out = choose(UBUNTU_24, needs=TF + TORCH_13, generations=["Pascal"])
    assert (out["branch"], out["package"]) == ("580", "nvidia-driver-580")


def test_unknown_cuda_major_is_reported_not_checked() -> None:
    out = choose(UBUNTU_24, needs=[{"what": "torch", "cuda_major": None}])
    assert out["branch"] == "595"
    assert "torch: CUDA major not known to compat.json, not checked" in out["reason"]


def test_cuda_major_without_a_driver_floor() -> None:
    out = choose(UBUNTU_24, needs=[{"what": "jax[cuda14]", "cuda_major": "14"}])
    assert "jax[cuda14] needs CUDA 14, whose driver floor compat.json does not know" in out["error"]


def test_cuda_needs_from_the_framework_switches() -> None:
    needs = cuda_needs(
        COMPAT,
        tensorflow="2.21.0",
        jax="cuda13",
        torch_index_url="https://download.example/whl/cu130",
    )
    assert needs == [
        {"what": "tensorflow 2.21.0", "cuda_major": "12"},
        {"what": "jax[cuda13]", "cuda_major": "13"},
        {"what": "torch", "cuda_major": "13"},
    ]
    assert cuda_needs(COMPAT) == []
    assert cuda_needs(COMPAT, torch_index_url="") == [{"what": "torch", "cuda_major": None}]
    # The wheel's own Requires-Dist, read by the frameworks role's pin check, comes first.
    assert cuda_needs(COMPAT, torch_index_url="", wheels={"torch": "13"}) == TORCH_13
    assert (
        cuda_needs(
            COMPAT, torch_index_url="https://download.example/whl/cu126", wheels={"torch": "13"}
        )
        == TORCH_13
    )
    assert cuda_needs(COMPAT, tensorflow="2.9.0") == [
        {"what": "tensorflow 2.9.0", "cuda_major": None}
    ]


# --- an explicit branch ------------------------------------------------------------------


def test_explicit_branch_the_distro_does_not_package() -> None:
    out = choose(DEBIAN_12, distribution="Debian", requested="580")
    assert out["error"] == (
        "nvidia_driver_branch is 580, which Debian does not package here. "
        "Choose one of 535 (or auto)."
    )


def test_explicit_branch_that_is_not_a_number() -> None:
    out = choose(UBUNTU_24, requested="latest")
    assert "nvidia_driver_branch is latest" in out["error"]
    assert "Choose one of 470, 580, 595 (or auto)" in out["error"]


def test_explicit_branch_that_drops_the_gpu() -> None:
    out = choose(UBUNTU_24, requested="595", generations=["Volta"])
    assert "nvidia_driver_branch 595 cannot serve this host: newer than 580" in out["error"]


def test_explicit_branch_without_the_asked_variant() -> None:
    pk = ubuntu("470", variants=("",))
    out = choose(pk, requested="470")
    assert "no package nvidia-driver-470-open" in out["error"]
    out = choose(pk, requested="470", requested_open=False)
    assert out["package"] == "nvidia-driver-470"


def test_explicit_end_of_life_branch_is_allowed_with_a_warning() -> None:
    out = choose(ubuntu("570", "580"), requested="570", needs=TF)
    assert out["branch"] == "570"
    assert any("570 is past its end of life (since 2026-02" in w for w in out["warnings"])
    assert "nvidia_driver_branch" in out["reason"][-1]


def test_explicit_branch_that_ubuntu_keeps_only_as_a_transitional_name() -> None:
    out = choose(UBUNTU_24, requested="535")
    assert out["error"] == (
        "nvidia_driver_branch is 535, which Ubuntu does not package here (nvidia-driver-535 is "
        "only a transitional package for nvidia-driver-580). Choose one of 470, 580, 595 (or auto)."
    )


def test_kepler_on_ubuntu_24_04_gets_470() -> None:
    out = choose(UBUNTU_24, generations=["Kepler"])
    assert out["package"] == "nvidia-driver-470"


@pytest.mark.parametrize("value", ["auto", "AUTO", True, "yes", "false", False])
def test_open_switch_accepts_auto_and_booleans(value) -> None:
    out = choose(UBUNTU_24, requested_open=value)
    assert out["error"] == ""
    assert out["open"] is (str(value).lower() in ("auto", "true", "yes"))


def test_open_switch_rejects_anything_else() -> None:
    out = choose(UBUNTU_24, requested_open="maybe")
    assert out["error"] == "nvidia_driver_open must be auto, true or false."


# --- the detected GPUs against the packages' Modaliases ----------------------------------
# The fixtures carry the real Modaliases lines (Ubuntu archive, noble-updates restricted
# Packages, 2026-11-30; jammy-updates and resolute-updates likewise; added by
# data/add_modaliases.py). PCI ids: K80 0x102d, GTX 980 0x13c0, GTX 1080 0x1b80, V100 0x1db4,
# T4 0x1eb8, A40 0x2235, H200 0x2335, RTX 5090 0x2b85, B200 0x2901.
K80, GTX_980, GTX_1080, V100, T4, A40, H200, RTX_5090, B200 = (
    "0x102d",
    "0x13c0",
    "0x1b80",
    "0x1db4",
    "0x1eb8",
    "0x2235",
    "0x2335",
    "0x2b85",
    "0x2901",
)
_ALL_580 = ("580", "580-open", "580-server", "580-server-open")


@pytest.mark.parametrize(
    ("device", "listed_by"),
    [
        (K80, ("470", "470-server")),
        (GTX_980, ("470", "470-server", "580", "580-server")),
        (GTX_1080, ("470", "470-server", "580", "580-server")),
        (V100, ("470", "470-server", "580", "580-server")),
        (T4, ("470", "470-server", *_ALL_580, "595", "595-open")),
        (A40, ("470", "470-server", *_ALL_580, "595", "595-open")),
        (H200, (*_ALL_580, "595", "595-open")),
        (RTX_5090, (*_ALL_580, "595", "595-open")),
        (B200, (*_ALL_580, "595", "595-open")),
    ],
)
def test_ubuntu_24_04_modaliases_as_the_archive_lists_them(device, listed_by) -> None:
    lists = UBUNTU_24["device_lists"]
    assert sorted(
        n.removeprefix("nvidia-driver-") for n, ids in lists.items() if device in ids
    ) == (sorted(listed_by))


def test_only_real_branch_packages_carry_modaliases() -> None:
    # Transitional names (535, 570, 590 ...) carry none; every real branch package does.
    assert sorted(UBUNTU_24["device_lists"]) == sorted(
        f"nvidia-driver-{b}{v}" for b, variants in UBUNTU_24["branches"].items() for v in variants
    )
    assert "nvidia-driver-590" not in UBUNTU_24["device_lists"]


def test_modaliases_parsing_keeps_nvidia_ids_in_any_case() -> None:
    show = (
        "Package: nvidia-driver-600-open\nDepends: nvidia-dkms-600-open\n"
        "Modaliases: nvidia(pci:v000010ded00002B85sv*sd*bc03sc*i*, "
        "pci:v00008086d00001234sv*sd*bc03sc*i*, PCI:V000010DED00001E02SV*SD*BC03SC*I*)"
    )
    pk = packaged(["nvidia-driver-600-open"], show=show)
    assert pk["device_lists"] == {"nvidia-driver-600-open": ["0x1e02", "0x2b85"]}
    assert pk["device_lists_from"] == "Modaliases"


@pytest.mark.parametrize(
    ("release", "devices", "package"),
    [
        # 24.04: Turing and newer get 595's open modules; Maxwell to Volta 580's proprietary.
        *((UBUNTU_24, [gpu], "nvidia-driver-595-open") for gpu in (H200, RTX_5090, B200, T4, A40)),
        *((UBUNTU_24, [gpu], "nvidia-driver-580") for gpu in (GTX_980, GTX_1080, V100)),
        (UBUNTU_22, [H200], "nvidia-driver-580-open"),
        (UBUNTU_22, [GTX_1080], "nvidia-driver-580"),
        (UBUNTU_26, [B200], "nvidia-driver-595-open"),
        (UBUNTU_26, [V100], "nvidia-driver-580"),
    ],
)
def test_auto_serves_the_detected_gpus(release, devices, package) -> None:
    out = choose(release, devices=devices, needs=TF)
    assert (out["error"], out["package"]) == ("", package)
    assert out["devices"] == devices
    assert out["device_limit"] == f"the Modaliases of {package}"


def test_gtx_1080_gets_580_proprietary_and_says_why() -> None:
    out = choose(UBUNTU_24, devices=[GTX_1080], needs=TF)
    assert (out["branch"], out["open"], out["package"]) == ("580", False, "nvidia-driver-580")
    assert (
        "kernel modules: proprietary (nvidia-driver-580-open does not list 0x1b80 in its "
        "Modaliases; nvidia-driver-580 lists them)"
    ) in out["reason"]
    assert (
        "NVIDIA GPUs on the PCI bus: 0x1b80, each listed in the Modaliases of nvidia-driver-580 "
        "(the packages' own lists of the GPUs they drive limit the choice)"
    ) in out["reason"]


def test_h200_gets_595_open() -> None:
    out = choose(UBUNTU_24, devices=[H200], needs=TF + TORCH_13)
    assert (out["branch"], out["open"], out["package"]) == ("595", True, "nvidia-driver-595-open")
    assert (
        "kernel modules: open (NVIDIA's default; nvidia-driver-595-open lists every GPU)"
        in (out["reason"])
    )


def test_the_table_the_choice_is_read_from() -> None:
    # A GTX 1080 on 24.04 with tensorflow's CUDA 12 (driver >= 525, compat.json's floor).
    host = plugin.Host.read(
        UBUNTU_24,
        {int(b): v for b, v in UBUNTU_24["branches"].items()},
        [GTX_1080],
        modules={"open", "proprietary"},
        flavours=[True, False],
        floor=525,
        floor_from=TF[0],
    )
    table = plugin.driver_candidates(host, COMPAT, TODAY)
    unlisted = "nvidia-driver-{} does not list 0x1b80 in its Modaliases"
    # Auto's order: the supported branches newest first, then the others.
    assert [(r.branch, r.package, r.designation, r.supported, r.rejected) for r in table] == [
        (
            595,
            "nvidia-driver-595-open",
            "production",
            True,
            (unlisted.format("595-open"), unlisted.format("595")),
        ),
        (580, "nvidia-driver-580", "long term support", True, ()),
        (
            470,
            "nvidia-driver-470",
            "legacy (Kepler)",
            False,
            ("older than 525, which tensorflow 2.21.0 needs",),
        ),
    ]
    # Why 580 takes the proprietary modules: the reason the choice gives.
    assert table[1].passed_over == (unlisted.format("580-open"),)
    chosen = plugin.first_acceptable(table)
    assert chosen is table[1]
    out = choose(UBUNTU_24, devices=[GTX_1080], needs=TF)
    assert (out["branch"], out["package"], out["open"]) == ("580", chosen.package, chosen.open)


def test_mixed_turing_and_pascal_meet_at_580_proprietary() -> None:
    out = choose(UBUNTU_24, devices=[T4, GTX_1080], needs=TF)
    assert (out["branch"], out["open"], out["package"]) == ("580", False, "nvidia-driver-580")
    assert out["devices"] == [GTX_1080, T4]


def test_server_flavour_serves_the_detected_gpu() -> None:
    # 24.04 packages no 595-server: the newest -server package listing the H200 is 580's.
    out = choose(UBUNTU_24, devices=[H200], server=True)
    assert out["package"] == "nvidia-driver-580-server-open"
    out = choose(UBUNTU_24, devices=[GTX_1080], server=True)
    assert out["package"] == "nvidia-driver-580-server"


def test_k80_on_24_04_and_a_cuda_12_framework_cannot_meet() -> None:
    out = choose(UBUNTU_24, devices=[K80], needs=TF)
    assert out["branch"] == ""
    assert out["error"] == (
        "No packaged driver branch serves this host (470: older than 525, which tensorflow "
        "2.21.0 needs; 580: nvidia-driver-580-open does not list 0x102d in its Modaliases, "
        "nvidia-driver-580 does not list 0x102d in its Modaliases; 595: nvidia-driver-595-open "
        "does not list 0x102d in its Modaliases, nvidia-driver-595 does not list 0x102d in its "
        "Modaliases). tensorflow 2.21.0 needs a driver >= 525, and the newest packaged branch "
        "listing 0x102d (Modaliases) is 470: no packaged driver runs both; choose a build for "
        "an older CUDA (frameworks_jax_cuda_extra, frameworks_torch_index_url, or "
        "frameworks_tensorflow_variant=cpu)."
    )


def test_k80_on_24_04_without_gpu_frameworks_gets_470_past_its_end_of_life() -> None:
    out = choose(UBUNTU_24, devices=[K80])
    assert (out["branch"], out["open"], out["package"]) == ("470", False, "nvidia-driver-470")
    assert (
        "kernel modules: proprietary (no package nvidia-driver-470-open; nvidia-driver-470 "
        "lists them)"
    ) in out["reason"]
    assert any("470 is past its end of life" in w for w in out["warnings"])


def test_k80_on_26_04_is_listed_by_no_package() -> None:
    out = choose(UBUNTU_26, devices=[K80])
    assert "580: nvidia-driver-580-open does not list 0x102d in its Modaliases" in out["error"]
    assert out["error"].endswith(
        "No packaged driver lists 0x102d in its Modaliases: use a release of the distro that "
        "packages a driver for this GPU."
    )


def test_explicit_branch_whose_packages_drop_the_detected_gpu() -> None:
    out = choose(UBUNTU_24, requested="595", devices=[GTX_1080])
    assert out["error"] == (
        "nvidia_driver_branch 595 cannot serve this host: nvidia-driver-595-open does not list "
        "0x1b80 in its Modaliases; nvidia-driver-595 does not list 0x1b80 in its Modaliases. "
        "Choose another of 470, 580, 595, or auto."
    )


def test_open_asked_for_a_gpu_only_proprietary_packages_list() -> None:
    out = choose(UBUNTU_24, requested_open=True, devices=[GTX_1080])
    assert "580: nvidia-driver-580-open does not list 0x1b80 in its Modaliases" in out["error"]
    assert "470: no package nvidia-driver-470-open" in out["error"]
    assert out["error"].endswith(
        "Set nvidia_driver_open: auto (it would choose nvidia-driver-580, proprietary kernel "
        "modules)."
    )
    out = choose(UBUNTU_24, requested="580", requested_open=True, devices=[GTX_1080])
    assert out["error"].startswith(
        "nvidia_driver_branch 580 cannot serve this host: nvidia-driver-580-open does not list "
        "0x1b80 in its Modaliases."
    )
    assert "Set nvidia_driver_open: auto (it would choose nvidia-driver-580," in out["error"]


def test_open_asked_where_no_open_package_lists_the_gpu_and_auto_cannot_help() -> None:
    out = choose(UBUNTU_26, requested_open=True, devices=[K80])
    assert out["error"].endswith(
        "No packaged driver with open kernel modules lists 0x102d in its Modaliases: use a "
        "release of the distro that packages a driver for this GPU."
    )


def test_generations_and_modaliases_both_limit() -> None:
    # Ubuntu's proprietary 595 lists the RTX 5090; only the generation says Blackwell needs open.
    out = choose(UBUNTU_24, devices=[RTX_5090], requested_open=False)
    assert out["package"] == "nvidia-driver-595"
    out = choose(UBUNTU_24, devices=[RTX_5090], requested_open=False, generations=["Blackwell"])
    assert out["error"] == (
        "nvidia_driver_open is False, but the GPU needs open kernel modules. "
        "Set nvidia_driver_open: auto."
    )
    out = choose(UBUNTU_24, devices=[RTX_5090], generations=["Blackwell"], needs=TORCH_13)
    assert out["package"] == "nvidia-driver-595-open"
    assert any(r.startswith("Blackwell GPU") for r in out["reason"])
    # The generation's last branch and the packages' lists together: Volta's 580 drops 595.
    out = choose(UBUNTU_24, devices=[V100], generations=["Volta"], requested="595")
    assert "nvidia-driver-595 does not list 0x1db4 in its Modaliases" in out["error"]
    assert "newer than 580, the last for the GPU" in out["error"]


@pytest.mark.parametrize(
    ("release", "package"),
    [
        (UBUNTU_22, "nvidia-driver-580-open"),
        (UBUNTU_24, "nvidia-driver-595-open"),
        (UBUNTU_26, "nvidia-driver-595-open"),
    ],
)
def test_no_detected_gpu_leaves_the_choice_as_before(release, package) -> None:
    # A CPU host, or preflight_gpu_force on a host without a GPU: no device limit.
    out = choose(release, needs=TF, devices=[])
    assert (out["error"], out["package"], out["devices"]) == ("", package, [])
    assert out["device_limit"] == "none: no NVIDIA GPU detected on the PCI bus"
    assert (
        "NVIDIA GPUs on the PCI bus: none detected, so no device limit applied" in (out["reason"])
    )


def test_no_gpu_and_no_open_variant_still_names_the_missing_package() -> None:
    out = choose(ubuntu("470", variants=("",)), requested="470")
    assert "no package nvidia-driver-470-open" in out["error"]


def test_packages_without_modaliases_set_no_device_limit() -> None:
    # The frozen fallback list, and packages that carry no Modaliases field (NVIDIA's, Debian's).
    fallback = packaged([], distribution="Ubuntu", fallback=["580", "595"])
    out = choose(fallback, devices=[GTX_1080])
    assert out["package"] == "nvidia-driver-595-open"
    assert out["device_limit"] == "none: apt lists no driver package yet"
    out = choose(ubuntu("580", "595"), devices=[GTX_1080])
    assert out["package"] == "nvidia-driver-595-open"
    assert out["device_limit"] == "none: nvidia-driver-595-open carries no Modaliases field"
    out = choose(DEBIAN_12, distribution="Debian", devices=[GTX_1080])
    assert (out["package"], out["device_limit"]) == (
        "nvidia-driver",
        "none: no nvidia-detect list was read for nvidia-driver (apt-get download nvidia-detect)",
    )
    assert (
        "NVIDIA GPUs on the PCI bus: 0x1b80; no device limit applied: no nvidia-detect list was "
        "read for nvidia-driver (apt-get download nvidia-detect)"
    ) in out["reason"]


@pytest.mark.parametrize("written", ["0x2335", "0X2335", "2335"])
def test_device_ids_as_the_probe_or_a_person_writes_them(written) -> None:
    assert choose(UBUNTU_24, devices=[written])["devices"] == [H200]


def test_device_id_that_is_not_hex() -> None:
    out = choose(UBUNTU_24, devices=["GH100"])
    assert out["error"] == "devices must be PCI device ids such as 0x2335: ['GH100']."


# --- Debian: nvidia-detect's list of the GPUs its nvidia-driver drives --------------------
# usr/share/nvidia/nvidia.ids of nvidia-detect 535.309.01-0+deb12u1 (bookworm-security
# non-free) and 550.163.01-2 (trixie non-free), Debian archive, 2026-11-30.
DEBIAN_12_IDS = (DATA / "debian-12-nvidia-detect-nvidia.ids").read_text()
DEBIAN_13_IDS = (DATA / "debian-13-nvidia-detect-nvidia.ids").read_text()
DEBIAN_12_LISTED = packaged([], DEBIAN_12_MADISON, "Debian", detect_ids=DEBIAN_12_IDS)
DEBIAN_13_LISTED = packaged(
    [],
    [" nvidia-driver | 550.163.01-2 | http://mirror.example/d trixie/non-free amd64 Packages"],
    "Debian",
    detect_ids=DEBIAN_13_IDS,
)


def test_debian_nvidia_detect_list_is_read_for_nvidia_driver() -> None:
    lists = DEBIAN_12_LISTED["device_lists"]
    assert list(lists) == ["nvidia-driver"]
    assert DEBIAN_12_LISTED["device_lists_from"] == "nvidia-detect"
    # 535 drives the H100 (0x2330), not the H200, nor Blackwell, nor Kepler.
    assert {GTX_980, GTX_1080, V100, T4, A40, "0x2330"} <= set(lists["nvidia-driver"])
    assert not {K80, H200, RTX_5090, B200} & set(lists["nvidia-driver"])
    assert H200 in DEBIAN_13_LISTED["device_lists"]["nvidia-driver"]


def test_debian_12_serves_a_gtx_1080_from_nvidia_detect_list() -> None:
    out = choose(DEBIAN_12_LISTED, distribution="Debian", devices=[GTX_1080], needs=TF)
    assert (out["error"], out["branch"], out["package"]) == ("", "535", "nvidia-driver")
    assert out["device_limit"] == "nvidia-detect's nvidia.ids for nvidia-driver"


def test_debian_12_cannot_drive_an_h200_and_debian_13_can() -> None:
    out = choose(DEBIAN_12_LISTED, distribution="Debian", devices=[H200])
    assert out["error"] == (
        "No packaged driver branch serves this host (535: nvidia-driver does not list 0x2335 "
        "in nvidia-detect's nvidia.ids). No packaged driver lists 0x2335 in nvidia-detect's "
        "nvidia.ids: use a release of the distro that packages a driver for this GPU."
    )
    out = choose(DEBIAN_13_LISTED, distribution="Debian", devices=[H200])
    assert (out["error"], out["branch"]) == ("", "550")


def test_debian_13_does_not_list_a_blackwell() -> None:
    out = choose(DEBIAN_13_LISTED, distribution="Debian", devices=[RTX_5090])
    assert "550: nvidia-driver does not list 0x2b85 in nvidia-detect's nvidia.ids" in out["error"]


def test_nvidia_detect_list_without_a_non_free_branch_is_not_used() -> None:
    # Non-free not enabled yet: the frozen list stands in, with no device limit.
    pk = packaged([], [], "Debian", fallback=["535"], detect_ids=DEBIAN_12_IDS)
    assert pk["device_lists"] == {}
    out = choose(pk, distribution="Debian", devices=[H200])
    assert (out["branch"], out["device_limit"]) == ("535", "none: apt lists no driver package yet")
