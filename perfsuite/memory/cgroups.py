"""The memory limit and usage of this process's container, from its cgroup.

cgroup v2 (one unified hierarchy, ``cgroup.controllers`` at the root): the
group's ``memory.max`` ("max": no limit; a parent's limit also applies, so the
lowest one on the way up to the root counts) and ``memory.current``.

cgroup v1 (a ``memory`` controller folder; also the "hybrid" layout): the
group's ``memory.limit_in_bytes`` (no limit reads as a huge number such as
9223372036854771712), the ``hierarchical_memory_limit`` of its ``memory.stat``
(the parents' limits) and ``memory.usage_in_bytes``.

The group comes from ``/proc/self/cgroup``; a container usually mounts its own
group as the root, so a path that does not exist under the root falls back to
the root. Both paths are arguments, so tests read fixture trees. Usage includes
the page cache, which the kernel reclaims before it kills anything. A limit of
0 or below (``-1``, ``-2**63`` from odd runtimes) is "no limit"; a file that is not
UTF-8 is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = "/sys/fs/cgroup"
PROC_SELF_CGROUP = "/proc/self/cgroup"
#: a v1 limit at or above this means "no limit" (the kernel's value is ~2**63)
NO_LIMIT_V1 = 1 << 60


@dataclass(frozen=True, slots=True)
class ContainerMemory:
    limit: int | None  # bytes; None: no limit (or no cgroup found)
    usage: int | None  # bytes; None: unknown
    version: int | None  # 1, 2 or None (not found)


NOT_FOUND = ContainerMemory(None, None, None)


def read(root: str | Path = ROOT, proc_cgroup: str | Path = PROC_SELF_CGROUP) -> ContainerMemory:
    """This process's container memory; ``NOT_FOUND`` when there is no cgroup."""
    base = Path(root)
    try:
        if (base / "cgroup.controllers").is_file():
            return _read_v2(base, _group(proc_cgroup, v2=True))
        if (base / "memory").is_dir():
            return _read_v1(base / "memory", _group(proc_cgroup, v2=False))
    except (OSError, ValueError):  # an unreadable tree: unknown, never an error
        pass
    return NOT_FOUND


def _group(proc_cgroup: str | Path, v2: bool) -> str:
    """The group path of the memory controller (v1) or of the unified hierarchy (v2)."""
    text = _text(Path(proc_cgroup))
    if text is None:
        return "/"
    for line in text.splitlines():
        hierarchy, controllers, path = [*line.split(":", 2), "", ""][:3]
        if v2 and hierarchy == "0" and controllers == "":
            return path or "/"
        if not v2 and "memory" in controllers.split(","):
            return path or "/"
    return "/"


def _group_dir(base: Path, group: str) -> Path:
    directory = base / group.lstrip("/")
    return directory if directory.is_dir() else base


def _text(path: Path) -> str | None:
    """A cgroup file's text; None when it is missing or not UTF-8 (unknown)."""
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _number(path: Path) -> int | None:
    """The integer in a cgroup file; None for "max", a missing file or garbage."""
    text = _text(path)
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return None  # "max", or unreadable


def _read_v2(base: Path, group: str) -> ContainerMemory:
    directory = _group_dir(base, group)
    limits = []
    current = directory
    while True:
        limit = _number(current / "memory.max")
        if limit is not None and limit > 0:  # 0 or negative: no usable limit
            limits.append(limit)
        if current == base or base not in current.parents:
            break
        current = current.parent
    return ContainerMemory(min(limits) if limits else None, _usage(directory / "memory.current"), 2)


def _read_v1(base: Path, group: str) -> ContainerMemory:
    directory = _group_dir(base, group)
    limits = [_number(directory / "memory.limit_in_bytes"), _hierarchical_limit(directory)]
    real = [limit for limit in limits if limit is not None and 0 < limit < NO_LIMIT_V1]
    return ContainerMemory(
        min(real) if real else None, _usage(directory / "memory.usage_in_bytes"), 1
    )


def _usage(path: Path) -> int | None:
    value = _number(path)
    return value if value is not None and value >= 0 else None


def _hierarchical_limit(directory: Path) -> int | None:
    text = _text(directory / "memory.stat")
    if text is None:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "hierarchical_memory_limit":
            try:
                return int(value)
            except ValueError:
                return None
    return None
