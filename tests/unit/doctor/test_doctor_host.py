"""Host probe on fake /proc, /sys and /etc trees, and the host check's thresholds."""

from __future__ import annotations

import pytest
from doctor_fakes import fake_root

from dlcheck.doctor.checks import host as host_check
from dlcheck.doctor.checks import registry
from dlcheck.doctor.context import Context, Options
from dlcheck.doctor.model import Status
from dlcheck.doctor.probes.host import detect_container, probe_host, secure_boot_state

SB_VAR = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
CPUINFO = "processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse2 avx avx2 fma\n"


@pytest.fixture
def root(tmp_path):
    r = fake_root(tmp_path)
    (r / "etc").mkdir()
    (r / "etc/os-release").write_text(
        'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
    )
    (r / "proc/cpuinfo").write_text(CPUINFO)
    (r / "proc/sys/kernel").mkdir(parents=True)
    (r / "proc/sys/kernel/osrelease").write_text("6.1.0-test-amd64\n")
    return r


def test_probe_reads_the_tree(root):
    info = probe_host(root)
    assert info.os == "Debian GNU/Linux 12 (bookworm)"
    assert info.kernel == "6.1.0-test-amd64"
    assert info.cpu_model == "Test CPU 9000"
    assert info.simd == ["avx", "avx2", "fma"]
    assert info.unreadable == []
    assert info.ram_bytes and info.ram_bytes > 0


def test_unreadable_cpuinfo_is_a_clear_result(root):
    (root / "proc/cpuinfo").unlink()
    (root / "proc/cpuinfo").mkdir()  # unreadable even as root
    result = registry()["host"].run(Context(Options(root=root)))
    messages = [f.message for f in result.findings if f.code == "host.unreadable"]
    assert messages == ["cannot read /proc/cpuinfo: Is a directory"]
    assert result.status == Status.WARN
    assert result.facts["simd"] is None


def test_no_avx_fails(root):
    (root / "proc/cpuinfo").write_text("model name\t: Old CPU\nflags\t\t: fpu sse2\n")
    result = registry()["host"].run(Context(Options(root=root)))
    assert {f.code for f in result.findings if f.status == Status.FAIL} == {"host.no_avx"}


@pytest.mark.parametrize(
    ("free", "status"),
    [(50 * 2**30, Status.OK), (5 * 2**30, Status.WARN), (1 * 2**30, Status.FAIL)],
)
def test_disk_thresholds(root, monkeypatch, free, status):
    import dlcheck.doctor.probes.host as host_probe

    class Usage:
        pass

    usage = Usage()
    usage.free = free
    monkeypatch.setattr(host_probe.psutil, "disk_usage", lambda path: usage)
    result = host_check.check(Context(Options(root=root)))
    assert result.status == status
    assert all(v == free for v in result.facts["disk_free_bytes"].values())


@pytest.mark.parametrize(("last_byte", "state"), [(b"\x01", "enabled"), (b"\x00", "disabled")])
def test_secure_boot_from_efivar(root, last_byte, state):
    var = root / SB_VAR
    var.parent.mkdir(parents=True)
    var.write_bytes(b"\x06\x00\x00\x00" + last_byte)
    assert secure_boot_state(root) == state


def test_secure_boot_not_efi_is_a_fact(root):
    assert secure_boot_state(root) == "not-efi"
    result = registry()["host"].run(Context(Options(root=root)))
    assert result.facts["secure_boot"] == "not-efi"
    assert not [f for f in result.findings if "secure" in f.code]


def test_secure_boot_unknown_when_var_missing(root):
    (root / "sys/firmware/efi/efivars").mkdir(parents=True)
    assert secure_boot_state(root) == "unknown"


def test_container_markers(root):
    assert detect_container(root) is None
    (root / ".dockerenv").write_text("")
    assert detect_container(root) == "docker"


def test_container_under_cgroup_v2_from_mountinfo(root):
    (root / "proc/1").mkdir()
    (root / "proc/1/cgroup").write_text("0::/\n")  # cgroup v2 says nothing
    (root / "proc/self").mkdir()
    (root / "proc/self/mountinfo").write_text(
        "1021 950 0:52 / / rw,relatime master:1 - overlay overlay rw,"
        "lowerdir=/var/lib/docker/overlay2/l/ABC,upperdir=/var/lib/docker/overlay2/x/diff\n"
        "1022 1021 0:55 / /proc rw,nosuid - proc proc rw\n"
    )
    assert detect_container(root) == "docker"


def test_container_cgroup_v1_kubernetes(root):
    (root / "proc/1").mkdir()
    (root / "proc/1/cgroup").write_text("12:memory:/kubepods/besteffort/pod1234/abcd\n")
    assert detect_container(root) == "kubernetes"


def test_bare_metal_mountinfo_is_no_container(root):
    (root / "proc/self").mkdir()
    (root / "proc/self/mountinfo").write_text(
        "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
    )
    assert detect_container(root) is None
