"""Resource limits for one candidate program. Stdlib-only: the sandbox worker imports it too."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    """Per-test limits. Each test runs in its own process, so a slow or crashing test does not sink the others.

    Verdicts use CPU time (``cpu_seconds``); ``wall_seconds`` is only a safety net for programs that sleep or block,
    so a loaded machine does not turn passes into timeouts.
    """

    cpu_seconds: float = 4.0
    wall_seconds: float = 15.0
    memory_mb: int = 1024  # address space of one test process
    max_processes: int = 32  # processes and threads the candidate may have at once
    file_size_mb: int = 16  # largest file (stdout included) the candidate may write
    open_files: int = 64
    output_kb: int = 1024  # stdout kept for comparison; more is an "output limit exceeded" error
    scratch_mb: int = 64  # size of the private /tmp (the scratch directory)
    # CPU seconds all tests of one program may use together; past it the test in progress stops and the rest are
    # reported as timeouts without running, so a program that loops on every input costs this, not every input's
    # limit. None: 4x the reference's total time over the tests that carry it, at least twice cpu_seconds (at
    # least cpu_seconds when every test carries it).
    program_cpu_seconds: float | None = None

    def __post_init__(self):
        for name in ("cpu_seconds", "wall_seconds", "memory_mb", "max_processes", "file_size_mb", "open_files",
                     "output_kb", "scratch_mb"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")
        if self.program_cpu_seconds is not None and (
                not isinstance(self.program_cpu_seconds, (int, float)) or isinstance(self.program_cpu_seconds, bool)
                or self.program_cpu_seconds <= 0):
            raise ValueError(f"Limits.program_cpu_seconds must be a positive number or None, "
                             f"got {self.program_cpu_seconds!r}")
        if self.wall_seconds < self.cpu_seconds:
            raise ValueError(
                f"Limits.wall_seconds ({self.wall_seconds}) must be at least cpu_seconds ({self.cpu_seconds}): "
                "the wall limit is the safety net behind the CPU limit")
        if self.memory_mb < 64:
            raise ValueError(f"Limits.memory_mb must be at least 64 (a Python process needs it), got {self.memory_mb}")
        if self.open_files < 16:
            raise ValueError(f"Limits.open_files must be at least 16, got {self.open_files}")

    def to_dict(self) -> dict:
        return asdict(self)
