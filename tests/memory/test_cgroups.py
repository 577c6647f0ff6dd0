"""The container's memory limit and usage from cgroup v2 and v1 fixture trees."""

from __future__ import annotations

from pathlib import Path

from perfsuite.memory import cgroups
from perfsuite.memory.manager import MemoryManager
from perfsuite.memory.usage import MB, ProcessMemory
from tests.memory.conftest import FIXTURES


def read(name: str) -> cgroups.ContainerMemory:
    return cgroups.read(FIXTURES / name / "cgroup", FIXTURES / name / "self_cgroup")


def test_v2_the_lowest_limit_on_the_way_to_the_root() -> None:
    # the group says "max"; its parent 512 MiB and the grandparent 1 GiB
    assert read("v2") == cgroups.ContainerMemory(512 * MB, 123731968, 2)


def test_v2_max_means_no_limit() -> None:
    assert read("v2_max") == cgroups.ContainerMemory(None, 50 * MB, 2)


def test_v1_the_memory_controllers_group() -> None:
    # hybrid layout (a unified folder beside the controllers) reads the v1 controller;
    # the group's own limit (256 MiB) is below its parents' (512 MiB)
    assert read("v1") == cgroups.ContainerMemory(256 * MB, 100 * MB, 1)


def test_v1_the_huge_no_limit_value_and_a_host_path_the_container_does_not_see() -> None:
    # /proc/self/cgroup names /kubepods/...; the container's own group is the root
    assert read("v1_nolimit") == cgroups.ContainerMemory(None, 70 * MB, 1)


def test_v1_a_parents_limit_from_memory_stat(tmp_path: Path) -> None:
    group = tmp_path / "memory" / "app"
    group.mkdir(parents=True)
    (group / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (group / "memory.usage_in_bytes").write_text("1048576\n")
    (group / "memory.stat").write_text("cache 0\nhierarchical_memory_limit 134217728\n")
    proc = tmp_path / "self_cgroup"
    proc.write_text("3:memory:/app\n")
    assert cgroups.read(tmp_path, proc) == cgroups.ContainerMemory(128 * MB, MB, 1)


def test_no_cgroup_at_all(tmp_path: Path) -> None:
    assert cgroups.read(tmp_path, tmp_path / "missing") == cgroups.NOT_FOUND
    assert cgroups.read(tmp_path / "missing", tmp_path / "missing") == cgroups.NOT_FOUND


def test_garbage_in_a_file_reads_as_unknown(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("")
    (tmp_path / "memory.max").write_text("lots\n")
    (tmp_path / "memory.current").write_text("")
    assert cgroups.read(tmp_path, tmp_path / "none") == cgroups.ContainerMemory(None, None, 2)


def test_the_usage_reports_the_container_and_percent_is_of_its_limit() -> None:
    reader = ProcessMemory(FIXTURES / "v2" / "cgroup", FIXTURES / "v2" / "self_cgroup")
    usage = MemoryManager(reader=reader).get_memory_usage()
    assert usage["container_limit_mb"] == 512
    assert usage["container_usage_mb"] == 123731968 / MB
    assert abs(usage["percent"] - usage["rss_mb"] / 512 * 100) < 1e-9

    reader = ProcessMemory(FIXTURES / "v1" / "cgroup", FIXTURES / "v1" / "self_cgroup")
    usage = MemoryManager(reader=reader).get_memory_usage()
    assert usage["container_limit_mb"] == 256 and usage["container_usage_mb"] == 100
    assert abs(usage["percent"] - usage["rss_mb"] / 256 * 100) < 1e-9


def test_without_a_limit_percent_is_psutils_host_wide_figure() -> None:
    import psutil

    reader = ProcessMemory(FIXTURES / "v2_max" / "cgroup", FIXTURES / "v2_max" / "self_cgroup")
    usage = MemoryManager(reader=reader).get_memory_usage()
    assert usage["container_limit_mb"] is None and usage["container_usage_mb"] == 50
    host = usage["rss_mb"] * MB / psutil.virtual_memory().total * 100
    assert abs(usage["percent"] - host) < 0.5


def test_a_limit_of_zero_or_below_is_no_limit_and_percent_stays_sane(tmp_path: Path) -> None:
    """-1 and -2**63 (odd runtimes) and 0 are no usable limit: the percentage falls
    back to the host's figure instead of -6.7e9 %, and a percent threshold works."""
    (tmp_path / "cgroup.controllers").write_text("")
    (tmp_path / "memory.current").write_text("52428800\n")
    for value in ("-1", str(-(2**63)), "0"):
        (tmp_path / "memory.max").write_text(value + "\n")
        found = cgroups.read(tmp_path, tmp_path / "none")
        assert found == cgroups.ContainerMemory(None, 52428800, 2), value
        usage = MemoryManager(reader=ProcessMemory(tmp_path, tmp_path / "none")).get_memory_usage()
        assert usage["container_limit_mb"] is None
        assert 0 <= usage["percent"] <= 100, (value, usage["percent"])
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text("-1\n")
    (v1 / "memory" / "memory.usage_in_bytes").write_text("-5\n")
    assert cgroups.read(v1, tmp_path / "none") == cgroups.ContainerMemory(None, None, 1)


def test_bytes_that_are_not_utf8_read_as_unknown(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("")
    (tmp_path / "memory.max").write_bytes(b"\xff\xfe512\n")
    (tmp_path / "memory.current").write_bytes(b"\x80")
    proc = tmp_path / "self_cgroup"
    proc.write_bytes(b"0::/\xff\n")
    assert cgroups.read(tmp_path, proc) == cgroups.ContainerMemory(None, None, 2)
