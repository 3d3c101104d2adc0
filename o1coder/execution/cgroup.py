"""A memory cgroup per sandbox worker: the bound on the *sum* of its processes' memory.

Per-process limits (RLIMIT_AS) do not stop a program that forks many children which each allocate up to the limit;
without a cgroup, that sum is bounded only by the process limit times the memory limit, which can exceed the host's
memory. With one, the kernel's OOM killer acts inside the worker's group, and the candidates (which raise their own
``oom_score_adj``) go first. Linux cgroup v1 (``memory`` controller) and v2 (``memory.max``) are supported; without
either (no root, no cgroupfs) the sandbox works without it and says so in its isolation report.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

V1_ROOT = Path("/sys/fs/cgroup/memory")
V2_ROOT = Path("/sys/fs/cgroup")


class MemoryCgroup:
    """Create with a limit, hand ``procs_file`` to the worker (it joins itself first thing), ``remove()`` after."""

    def __init__(self, name: str, limit_bytes: int):
        self.path: Path | None = None
        self.procs_file: str = ""
        self._events_fd: int | None = None  # the file that counts OOM kills, kept open: it is read twice a program
        _remove_stale(name.rsplit("-", 2)[0])
        try:
            if (V1_ROOT / "memory.limit_in_bytes").exists():
                self._create(V1_ROOT / name, "memory.limit_in_bytes", limit_bytes)
            elif "memory" in _read(V2_ROOT / "cgroup.controllers").split():
                self._create(V2_ROOT / name, "memory.max", limit_bytes)
        except OSError as e:
            log.info("no memory cgroup for the sandbox (%s); per-process limits only", e)
            self.remove()

    def _create(self, path: Path, limit_file: str, limit_bytes: int) -> None:
        path.mkdir()
        self.path = path
        (path / limit_file).write_text(str(int(limit_bytes)))
        swap = path / ("memory.memsw.limit_in_bytes" if limit_file.endswith("in_bytes") else "memory.swap.max")
        if swap.exists():
            try:
                swap.write_text(str(int(limit_bytes)) if limit_file.endswith("in_bytes") else "0")
            except OSError:
                pass  # swap accounting off: memory is still bounded
        self.procs_file = str(path / "cgroup.procs")

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer has killed in this group so far."""
        if self.path is None:
            return 0
        if self._events_fd is None:
            for name in ("memory.oom_control", "memory.events"):  # v1, v2
                try:
                    self._events_fd = os.open(self.path / name, os.O_RDONLY | os.O_CLOEXEC)
                    break
                except OSError:
                    continue
            else:
                return 0
        try:
            text = os.pread(self._events_fd, 4096, 0).decode()  # cgroup files are regenerated on every read at 0
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    @property
    def active(self) -> bool:
        return self.path is not None

    def remove(self) -> None:
        """Remove the group once its processes are gone (a few retries: exits are asynchronous)."""
        if self._events_fd is not None:
            os.close(self._events_fd)
            self._events_fd = None
        if self.path is None:
            return
        for _ in range(50):
            try:
                os.rmdir(self.path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)
        else:
            log.warning("could not remove sandbox cgroup %s", self.path)
        self.path = None


def _remove_stale(prefix: str) -> None:
    """Groups left by sandboxes whose process died without closing (named PREFIX-PID-N): empty, so removable."""
    for root in (V1_ROOT, V2_ROOT):
        try:
            entries = list(root.glob(prefix + "-*"))
        except OSError:
            continue
        for path in entries:
            pid = path.name[len(prefix) + 1:].split("-")[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                try:
                    os.rmdir(path)
                except OSError:
                    pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
