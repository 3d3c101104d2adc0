"""The sandbox worker: a light, pre-started process that forks one isolated process tree per program.

Started by :class:`o1coder.execution.sandbox.Sandbox` as ``python -E -s worker.py`` with a clean environment, so it
never inherits a parent's imports (torch, CUDA state), tokens or keys. It imports only the standard library and its
sibling modules, sets up isolation once (see isolation.py), pre-imports the modules candidates commonly use (so
each fork starts warm), then serves jobs read from stdin: one JSON message in, one JSON message out, each prefixed
with its length.

With a PID namespace, the worker forks once: the child is the namespace's init and serves every job
(harness.run_job); it runs no candidate code, times every test, and kills every other process in the namespace
after each program. The host side has its own deadline per job and replaces a worker that stops answering.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from isolation import Isolation, forbid_new_privileges, python_paths  # noqa: E402

# Modules candidates use most, imported once so every test process starts warm. Kept short on purpose: each one
# grows the memory every fork copies, and some (threading, random) add work after every fork; measured, the full
# standard-library favourites cost three times the fork time of this list.
PREIMPORTS = ("math", "re", "collections", "collections.abc", "itertools", "functools", "heapq", "bisect", "string",
              "operator", "copy", "typing", "json")
_HEADER = struct.Struct("!I")


def frame(message: dict) -> bytes:
    """One message as it goes on a channel: its length, then its JSON."""
    data = json.dumps(message).encode()
    return _HEADER.pack(len(data)) + data


def send(fd: int, message: dict) -> None:
    harness._write_all(fd, frame(message))


def receive(fd: int) -> dict | None:
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    body = _read_exact(fd, size)
    return None if body is None else json.loads(body)


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except InterruptedError:
            continue
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def main() -> None:
    channel_in, channel_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    args = sys.argv[1:]
    if args[:1] == ["--cgroup"]:  # join the memory cgroup before anything else: every child inherits it
        with open(args[1], "w") as f:
            f.write(str(os.getpid()))
        args = args[2:]
    readable = [p for p in args if p]
    for name in PREIMPORTS:
        __import__(name)
    harness.snapshot_modules()  # what the modules hold before any candidate: tests see them this way
    import gc

    gc.freeze()  # the preloaded heap stays shared with forked test processes instead of being copied by the GC
    iso = Isolation()
    try:
        iso.setup_worker(python_paths() + readable)
    except OSError as e:
        iso.error = f"isolation setup failed: {e}"
    forbid_new_privileges()  # for the worker, its init and every test process: inherited, irrevocable
    # a uid of our own for candidates: unique among live workers, so their process limits never collide
    uid = 200_000 + os.getpid() if iso.root else None
    if iso.pidns:
        init = os.fork()  # the first child is the init of the new PID namespace: it serves, we wait
        if init:
            os.close(channel_in)
            os.close(channel_out)
            _, status = os.waitpid(init, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        iso.mount_proc()
    serve(channel_in, channel_out, iso, uid)


def serve(channel_in: int, channel_out: int, iso: Isolation, uid: int | None) -> None:
    """The job loop (in the PID namespace's init when there is one)."""
    send(channel_out, {"ready": True, "isolation": iso.report(), "uid": uid})
    while True:
        job = receive(channel_in)
        if job is None:
            return
        started = time.monotonic()
        try:
            result = harness.run_job(job, iso, uid)
        except Exception as e:  # noqa: BLE001 - report and keep serving
            result = {"compiled": None, "records": [], "message": f"worker error: {e!r}"}
        result["duration"] = time.monotonic() - started
        send(channel_out, result)


if __name__ == "__main__":
    main()
