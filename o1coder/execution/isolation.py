"""Linux isolation primitives for the sandbox worker: namespaces, a read-only minimal root, rlimits, privilege drop.

Stdlib-only (the worker imports it before it chroots). The layers, from the worker down to one test:

- worker (started once): its own mount, network, UTS and IPC namespaces; a minimal root filesystem built from
  read-only bind mounts of the Python installation and system libraries (the project folder, home directories and
  data are not in it); ``chroot`` into it. Network namespace = no interfaces but a down loopback: no network.
- the worker's PID namespace: its init is the trusted harness, which never runs candidate code. After every
  program it kills every other process in the namespace (double-forked escapes included) and mounts a fresh,
  size-limited tmpfs at /tmp and /dev/shm, so nothing of one program survives into the next. If the init dies,
  the kernel kills the whole namespace.
- test process (one per program, or per stdio test): resource limits, no new privileges, an unprivileged uid of
  its own, a clean environment, the scratch directory as cwd.

Without root the worker tries an unprivileged user namespace for the same layers; ``report()`` says what is active.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

MNT_DETACH = 2

PR_SET_NO_NEW_PRIVS = 38
PR_SET_DUMPABLE = 4

_libc = ctypes.CDLL(None, use_errno=True)

# System folders a Python program needs to run; /etc only in part (no secrets, no configuration of the host).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/ld.so.cache",
             "/etc/ld.so.conf", "/etc/alternatives", "/etc/mime.types")
DEVICES = ("null", "zero", "full", "random", "urandom")


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


_prctl = _libc.prctl
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def prctl(option: int, arg: int) -> None:
    _check(_prctl(option, arg, 0, 0, 0), "prctl")


class Isolation:
    """What the worker managed to set up; ``report()`` is shown to users so a weaker sandbox is never silent."""

    def __init__(self):
        self.root = os.geteuid() == 0
        self.userns = False
        self.netns = False
        self.mountns = False
        self.chroot = False
        self.pidns = False
        self.error = ""
        self._scratch_mb = 0

    def report(self) -> dict:
        return {"root": self.root, "user_namespace": self.userns, "network_namespace": self.netns,
                "mount_namespace": self.mountns, "minimal_root": self.chroot, "pid_namespace": self.pidns,
                "unprivileged_uid": self.root, "error": self.error}

    # -- worker level ------------------------------------------------------------------------------------------
    def setup_worker(self, readable_paths: list[str]) -> None:
        """Enter private namespaces and chroot into a read-only minimal root holding ``readable_paths``."""
        try:
            if self.root:
                unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)
            else:
                self._enter_user_namespace()
            self.netns = self.mountns = True
        except OSError as e:
            self.error = f"namespaces unavailable ({e}); running with resource limits only"
            return
        try:
            unshare(CLONE_NEWPID)  # the worker's next child is the init of a PID namespace of its own
            self.pidns = True
        except OSError:
            self.pidns = False
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        new_root = "/tmp/.o1coder-root"
        # a tmpfs over /tmp in this private namespace: the host's /tmp is neither read nor written
        mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=16m")
        os.makedirs(new_root)
        mount("tmpfs", new_root, "tmpfs", MS_NOSUID, "mode=755,size=16m")
        for path in _dedupe(list(SYSTEM_DIRS) + readable_paths):
            self._expose(new_root, path)
        etc = os.path.join(new_root, "etc")
        os.makedirs(etc, exist_ok=True)
        for path in ETC_FILES:
            self._expose(new_root, path)
        dev = os.path.join(new_root, "dev")
        os.makedirs(dev, exist_ok=True)
        for name in DEVICES:
            self._expose(new_root, "/dev/" + name)
        os.symlink("/proc/self/fd", os.path.join(dev, "fd"))
        for i, name in enumerate(("stdin", "stdout", "stderr")):
            os.symlink(f"/proc/self/fd/{i}", os.path.join(dev, name))
        for name in ("proc", "tmp", "dev/shm"):
            os.makedirs(os.path.join(new_root, name), exist_ok=True)
        os.chmod(os.path.join(new_root, "tmp"), 0o1777)
        mount(None, new_root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID)  # the root itself is read-only too
        os.chroot(new_root)
        os.chdir("/")
        self.chroot = True

    def _enter_user_namespace(self) -> None:
        uid, gid = os.geteuid(), os.getegid()
        unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
        self.userns = True

    @staticmethod
    def _expose(new_root: str, path: str) -> None:
        """Bind ``path`` read-only at the same place in ``new_root`` (symlinks are recreated, not bound)."""
        if not os.path.lexists(path):
            return
        target = new_root + path
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        if os.path.lexists(target):
            return
        if os.path.islink(path):
            os.symlink(os.readlink(path), target)
            return
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "w").close()
        mount(path, target, None, MS_BIND | MS_REC)
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV * (not path.startswith("/dev/")))

    # -- inside the namespace's init ------------------------------------------------------------------------
    def mount_proc(self) -> None:
        """Once, in the PID namespace's init: a /proc that shows only the sandbox's own processes."""
        if self.pidns and self.chroot:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)

    def fresh_scratch(self, scratch_mb: int) -> bool:
        """Before each program: a new, empty, size-limited /tmp and /dev/shm (the old ones vanish whole).

        When the last program left nothing behind (only the harness's own folders, an empty scratch folder, an empty
        /dev/shm) the mounts are kept: the common case costs three directory listings instead of four mounts.
        """
        if not self.chroot:
            return False
        if self._scratch_mb == scratch_mb and self._scratch_is_clean():
            return False
        self._scratch_mb = scratch_mb
        for target, size, flags in (("/tmp", int(scratch_mb), MS_NOSUID | MS_NODEV),
                                    ("/dev/shm", 16, MS_NOSUID | MS_NODEV | MS_NOEXEC)):
            _libc.umount2(target.encode(), ctypes.c_int(MNT_DETACH))
            mount("tmpfs", target, "tmpfs", flags, f"mode=1777,size={size}m")
        return True

    @staticmethod
    def _scratch_is_clean() -> bool:
        try:
            return (sorted(os.listdir("/tmp")) == [".harness", "work"] and not os.listdir("/tmp/work")
                    and not os.listdir("/dev/shm") and os.stat("/tmp").st_mode & 0o7777 == 0o1777
                    and os.stat("/tmp/work").st_mode & 0o7777 == 0o700)
        except OSError:
            return False


def rlimits_for(limits: dict, n_tests: int = 1, cpu_total: float | None = None) -> list[tuple[int, tuple[int, int]]]:
    """Resource limits for a test process that will run ``n_tests`` tests, computed by the init before it forks (the
    test process only applies them: every object it touches after the fork costs a copied page). The kernel's CPU
    limit is only a backstop for the whole process (at most ``cpu_total``, the program's budget left); the harness
    measures each test's CPU time and stops it at the exact limit."""
    cpu_seconds = float(limits["cpu_seconds"]) * n_tests
    if cpu_total is not None:
        cpu_seconds = min(cpu_seconds, max(cpu_total, 0.0))
    cpu = int(cpu_seconds) + 2
    mem = int(limits["memory_mb"]) * 1024 * 1024
    fsize = int(limits["file_size_mb"]) * 1024 * 1024
    return [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (mem, mem)),
        (resource.RLIMIT_NPROC, (int(limits["max_processes"]),) * 2),
        (resource.RLIMIT_FSIZE, (fsize, fsize)),
        (resource.RLIMIT_NOFILE, (int(limits["open_files"]),) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
    ]


def apply_rlimits(values: list[tuple[int, tuple[int, int]]]) -> None:
    """In the test process: set the limits :func:`rlimits_for` computed."""
    for res, value in values:
        try:
            resource.setrlimit(res, value)
        except (ValueError, OSError):
            if res != resource.RLIMIT_NPROC:  # NPROC is unsupported in some containers; the rest must hold
                raise


def forbid_new_privileges() -> None:
    """Once, in the worker: no process of the sandbox can ever gain privileges again (setuid binaries stay inert).
    The flag is inherited by every child and cannot be cleared, so test processes need not set it themselves."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def _uid_change_clears_dumpable() -> bool:
    """On a uid change the kernel resets the "dumpable" flag to ``fs.suid_dumpable``; at 0 (the default) that alone
    makes the process undumpable (no ptrace by its own uid, no core dump). Read once, when the worker starts."""
    try:
        with open("/proc/sys/fs/suid_dumpable") as f:
            return f.read().strip() == "0"
    except OSError:
        return False


_UID_CHANGE_CLEARS_DUMPABLE = _uid_change_clears_dumpable()


def drop_privileges(uid: int | None) -> None:
    """Become ``uid`` when we are root, and be undumpable (no ptrace, no core) whatever ``fs.suid_dumpable`` says.
    This runs in every test process, so the ctypes call is skipped where the uid change already did it."""
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if _UID_CHANGE_CLEARS_DUMPABLE:
            return
    prctl(PR_SET_DUMPABLE, 0)


def kill_all_but_me() -> None:
    """From a PID namespace's init ONLY: kill every other process in the namespace and reap them.

    (Outside a PID namespace, kill(-1) would reach every process the caller may signal; callers check.)
    """
    import signal
    import time

    deadline = time.monotonic() + 2.0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        if time.monotonic() > deadline:
            return
        time.sleep(0.001)


def _dedupe(paths: list[str]) -> list[str]:
    """Absolute, existing, without paths already inside another one of the list."""
    real = sorted({os.path.abspath(p) for p in paths if p and os.path.isabs(p)})
    out: list[str] = []
    for p in real:
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def python_paths() -> list[str]:
    """The folders the running interpreter imports from (installation, standard library, site-packages).

    Only entries under the interpreter's prefixes are kept: an editable install's source folder (the project, its
    data, its runs) must not be readable by candidates.
    """
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths = set(prefixes)
    exe = os.path.realpath(sys.executable)
    paths.add(os.path.dirname(os.path.dirname(exe)))
    for entry in sys.path:
        if entry and any(entry.startswith(p) for p in prefixes):
            paths.add(entry)
    return sorted(paths)


__all__ = ["Isolation", "apply_rlimits", "drop_privileges", "forbid_new_privileges", "kill_all_but_me", "python_paths",
           "rlimits_for"]
