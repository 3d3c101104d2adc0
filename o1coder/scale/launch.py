"""``--accelerate-config FILE`` on the training verbs: the same command again, under ``accelerate launch``.

Multi-GPU training (DDP, FSDP, DeepSpeed ZeRO-2/3) needs one process per GPU, started by a launcher; the trainers
(TRL, transformers' Trainer) read the launcher's environment and need no change. So a training verb offered the
option re-runs itself as ``python -m accelerate.commands.launch --config_file FILE -m o1coder.cli <same args>``
(the option removed) and returns the launcher's exit code; inside the launched processes it is absent, and the
verb trains as usual. ``FILE`` is a path or the name of a preset in ``o1coder/recipes/accelerate/`` (``ddp-8gpu``,
``zero3-8gpu``...).

A training verb takes part with one line, after its ``set_defaults(func=...)``::

    add_accelerate_option(parser)       # adds the option and wraps the verb's func

All processes must write to the same folder, so ``--out`` is required with the option on verbs that have one
(a default folder named after the time could differ between processes started a second apart).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

OPTION = "--accelerate-config"
PRESETS_DIR = Path(__file__).resolve().parent.parent / "recipes" / "accelerate"
CHILD_ENV = "O1CODER_ACCELERATE_CHILD"  # set in the launched processes: they never launch again


def list_presets() -> list[str]:
    """Names of the bundled accelerate configs (``ddp-1gpu``, ``zero3-8gpu``...)."""
    return sorted(path.stem for path in PRESETS_DIR.glob("*.yaml"))


def resolve_config(name_or_path: str) -> Path:
    """A config file path from a path or a preset name; a clear error naming the presets otherwise."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path.resolve()
    preset = PRESETS_DIR / f"{name_or_path}.yaml"
    if preset.is_file():
        return preset
    raise FileNotFoundError(f"accelerate config {name_or_path!r} is neither a file nor a preset; presets: "
                            f"{', '.join(list_presets())} (or write one with `accelerate config --config_file FILE`)")


def strip_option(argv: Sequence[str]) -> list[str]:
    """``argv`` without ``--accelerate-config VALUE`` / ``--accelerate-config=VALUE`` (every occurrence)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == OPTION:
            skip = True
        elif not arg.startswith(OPTION + "="):
            out.append(arg)
    return out


def relaunch_command(config: str | Path, argv: Sequence[str], python: str | None = None) -> list[str]:
    """The ``accelerate launch`` command that runs ``o1coder <argv>`` (option removed) with ``config``.

    The launcher runs as a module of this interpreter, so the launched processes use the same environment
    (virtualenv) whether or not its ``accelerate`` script is on PATH.
    """
    return [python or sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
            "-m", "o1coder.cli", *strip_option(argv)]


def maybe_relaunch(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int | None:
    """Run this command again under ``accelerate launch`` when ``--accelerate-config`` was given.

    Returns the launcher's exit code, or None when the command should simply go on in this process (no option,
    or already inside a launched process). ``argv``: the command's arguments (default ``sys.argv[1:]``).
    """
    config = getattr(args, "accelerate_config", None)
    if not config or os.environ.get(CHILD_ENV):
        return None
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a == OPTION or a.startswith(OPTION + "=") for a in argv):
        raise ValueError(f"{OPTION} was set but is not in the command line {argv}: when calling o1coder.cli.main() "
                         "from Python, run `accelerate launch --config_file FILE -m o1coder.cli ...` instead")
    if hasattr(args, "out") and not args.out:
        raise ValueError(f"{OPTION} needs --out: every training process must write to the same folder")
    path = resolve_config(config)
    command = relaunch_command(path, argv)
    log.info("relaunching under accelerate: %s", " ".join(command))
    return subprocess.run(command, env={**os.environ, CHILD_ENV: "1"}, check=False).returncode


def add_accelerate_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--accelerate-config`` to a training verb and make its ``func`` relaunch when the option is given."""
    parser.add_argument(OPTION, metavar="FILE", default=None,
                        help="train on several GPUs: re-run this command under `accelerate launch` with this config "
                             f"(a YAML file or a preset: {', '.join(list_presets()) or 'none'}); needs --out")
    func = parser.get_default("func")
    if func is None:
        raise ValueError("add_accelerate_option must follow the verb's set_defaults(func=...)")
    parser.set_defaults(func=_relaunching(func))


def _relaunching(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        if getattr(args, "accelerate_config", None) and not os.environ.get(CHILD_ENV):
            print(f"o1coder: relaunching under `accelerate launch --config_file {args.accelerate_config}`",
                  file=sys.stderr)
        code = maybe_relaunch(args)
        if code is not None:
            return code
        if not os.environ.get(CHILD_ENV):
            return func(args)
        return run_as_launched_process(func, args)

    return run


def run_as_launched_process(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a verb inside one process of a launch: the summary is printed once (by rank 0; the other ranks' stdout
    is dropped, their logs still go to stderr), and the process group is destroyed before the interpreter exits,
    on success and on error alike, so no rank is left holding the group's threads at teardown."""
    from o1coder.trainkit import is_main_process, release_process_group

    try:
        if is_main_process():
            return func(args)
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            return func(args)
    finally:
        release_process_group()
