"""The sandbox worker: a light, pre-started process that forks one isolated process tree per program.

Started by :class:`o1coder.execution.sandbox.Sandbox` as ``python -E -s worker.py`` with a clean environment, so it
never inherits a parent's imports (torch, CUDA state), tokens or keys. It imports only the standard library and its
sibling modules, sets up isolation once (see isolation.py), pre-imports the modules candidates commonly use (so
each fork starts warm), then serves jobs read from stdin: one JSON message in, one JSON message out, each prefixed
with its length.

Per job: fork A (enters a fresh PID + mount namespace) -> fork B (the namespace's init, runs harness.run_job). B
streams JSON lines; the worker watches them with a deadline and kills B, and with it the whole namespace, when a
test overruns. A wall deadline per test means a hung program cannot stall the worker.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from isolation import Isolation, python_paths  # noqa: E402

PREIMPORTS = ("math", "cmath", "re", "collections", "collections.abc", "itertools", "functools", "heapq", "bisect",
              "string", "random", "statistics", "fractions", "decimal", "operator", "copy", "typing", "dataclasses",
              "datetime", "array", "textwrap", "unicodedata", "hashlib", "enum", "numbers", "queue", "io", "struct",
              "sys", "os", "time", "calendar", "pprint", "contextlib", "abc", "types", "weakref", "threading",
              "traceback", "inspect", "ast", "json")
_HEADER = struct.Struct("!I")


def send(fd: int, message: dict) -> None:
    data = json.dumps(message).encode()
    harness._write_all(fd, _HEADER.pack(len(data)) + data)


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


def run_job(job: dict, iso: Isolation, uid: int | None) -> dict:
    """Run one program against its test plans in a fresh process tree; collect the records of the job's init."""
    read_end, write_end = os.pipe()
    first = os.fork()
    if first == 0:  # A: new namespaces for the next child, then wait for it
        try:
            os.close(read_end)
            iso.enter_job_namespaces()
            init = os.fork()
            if init == 0:  # B: the job's init
                try:
                    harness.run_job(job, write_end, iso, uid)
                finally:
                    os._exit(0)
            harness._write_all(write_end, (json.dumps({"init": init}) + "\n").encode())
            os.close(write_end)
            while True:
                try:
                    os.waitpid(init, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    break
        finally:
            os._exit(0)
    os.close(write_end)
    result = _collect(read_end, job)
    os.close(read_end)
    os.waitpid(first, 0)
    return result


def _collect(fd: int, job: dict) -> dict:
    """Read the init's JSON lines until done, killing the init when it falls silent past the deadline."""
    import select

    limits = job["limits"]
    grace = float(limits["wall_seconds"]) + 5.0
    deadline = time.monotonic() + grace
    init_pid, buffer, records = None, b"", []
    result = {"compiled": None, "records": records, "message": ""}
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(max(left, 0) * 1000):
            result["message"] = "the sandbox stopped a program that overran its wall time limit"
            if init_pid:
                _kill(init_pid)
            break
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            deadline = time.monotonic() + grace
            if "init" in message:
                init_pid = message["init"]
            elif "compiled" in message:
                result["compiled"] = message["compiled"]
                result["message"] = message.get("message", "")
            elif "index" in message:
                records.append(message)
            elif "done" in message:
                result["done"] = True
    return result


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main() -> None:
    channel_in, channel_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    readable = [p for p in sys.argv[1:] if p]
    for name in PREIMPORTS:
        __import__(name)
    iso = Isolation()
    try:
        iso.setup_worker(python_paths() + readable)
    except OSError as e:
        iso.error = f"isolation setup failed: {e}"
    # a uid of our own for candidates: unique among live workers, so their process limits never collide
    uid = 200_000 + os.getpid() if iso.root else None
    send(channel_out, {"ready": True, "isolation": iso.report(), "uid": uid})
    while True:
        job = receive(channel_in)
        if job is None:
            return
        started = time.monotonic()
        try:
            result = run_job(job, iso, uid)
        except Exception as e:  # noqa: BLE001 - report and keep serving
            result = {"compiled": None, "records": [], "message": f"worker error: {e!r}"}
        result["duration"] = time.monotonic() - started
        send(channel_out, result)


if __name__ == "__main__":
    main()
