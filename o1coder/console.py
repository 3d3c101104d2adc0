"""What `o1coder loop` and `o1coder demo` show in a terminal: one line per stage, a progress bar for long ones.

A loop is minutes of stages whose libraries each bring their own output (datasets' map messages, transformers'
weight-loading bars, the Trainer's printed loss dicts). Interleaved, they bury the one thing a user watches: which
stage runs and how far along it is. So the commands print, on stderr,

    20:51:02 0/search: start
    0/search  |████████▌     | 12/20 problem
    20:51:40 0/search: done: run ..., pass rate 45.0%

and keep the libraries quiet unless ``-v``: :func:`quiet_libraries` turns off their bars and info logs, and
:func:`training_steps` shows the Trainer's steps as this stage's bar instead of its printed logs.

The loop only calls its ``progress(stage, message)`` callable and, when the callable has one,
``progress.advance(stage, done, total, unit)``; :class:`StageConsole` is both.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from typing import TextIO

logger = logging.getLogger(__name__)


class StageConsole:
    """``progress(stage, message)`` for :func:`o1coder.loop.run_loop`: a timestamped line per stage event, and a
    tqdm bar for the stage in progress while it reports ``advance``."""

    def __init__(self, stream: TextIO | None = None, bars: bool = True):
        self.stream = stream or sys.stderr
        self.bars = bars
        self.stage: str | None = None
        self._bar = None

    def __call__(self, stage: str, message: str) -> None:
        self.close_bar()
        self.stage = stage if message == "start" else None
        print(f"{time.strftime('%H:%M:%S')} {stage}: {message}", file=self.stream, flush=True)

    def advance(self, stage: str, done: int, total: int | None, unit: str = "it") -> None:
        """``done`` of ``total`` units of the stage are finished (a bar; nothing when bars are off)."""
        if not self.bars:
            return
        if self._bar is None or self._bar.desc != stage or self._bar.unit != unit:
            from tqdm import tqdm

            self.close_bar()
            self._bar = tqdm(total=total, initial=done, desc=stage, unit=unit, file=self.stream, leave=False,
                             dynamic_ncols=True)
        else:
            if total is not None and self._bar.total != total:
                self._bar.total = total
            self._bar.update(done - self._bar.n)

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def quiet_libraries() -> None:
    """Turn off the progress bars and info messages of datasets, transformers and huggingface_hub (what ``-v``
    keeps). Each library is optional here: one that is not installed has nothing to say."""
    with contextlib.suppress(ImportError):
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    with contextlib.suppress(ImportError):
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    with contextlib.suppress(ImportError):
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    # deprecation notices about the libraries' own internals: nothing a user of the command can act on
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|trl|datasets)\b")


@contextlib.contextmanager
def training_steps(console: StageConsole):
    """While active, every transformers Trainer (TRL's included) reports its steps to ``console`` as the current
    stage's bar, in place of its own tqdm bar or printed log dicts.

    The Trainer picks its display callback from two names of ``transformers.trainer`` when it is built (its own
    bar, or a printer when ``disable_tqdm``), and the training stages build their trainers deep inside the library;
    swapping those two names for the span of a command is the one place to change the display without threading
    a callback through every stage. They are restored on exit.
    """
    try:
        import transformers.trainer as trainer_module
        from transformers import TrainerCallback
    except ImportError:
        yield
        return

    class StageSteps(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            if console.stage is not None:
                console.advance(console.stage, 0, state.max_steps, "step")

        def on_step_end(self, args, state, control, **kwargs):
            if console.stage is not None:
                console.advance(console.stage, state.global_step, state.max_steps, "step")

    names = ("PrinterCallback", "DEFAULT_PROGRESS_CALLBACK")
    saved = {name: getattr(trainer_module, name) for name in names if hasattr(trainer_module, name)}
    if len(saved) < len(names):
        logger.debug("transformers.trainer has no %s: training steps keep the library's display", names)
        yield
        return
    for name in names:
        setattr(trainer_module, name, StageSteps)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(trainer_module, name, value)
