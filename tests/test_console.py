"""The terminal display of `o1coder loop` / `demo`: a line per stage, a bar while a stage advances, quiet libraries."""

from __future__ import annotations

import io

import transformers.trainer as trainer_module

from o1coder.console import StageConsole, quiet_libraries, training_steps


def test_a_line_per_stage_event_and_a_bar_while_it_advances():
    out = io.StringIO()
    console = StageConsole(stream=out)
    console("0/search", "start")
    assert console.stage == "0/search"
    console.advance("0/search", 1, 4, "problem")
    console.advance("0/search", 3, 4, "problem")
    assert console._bar is not None and (console._bar.n, console._bar.total) == (3, 4)
    console("0/search", "done: run X")
    assert console._bar is None and console.stage is None
    lines = [line for line in out.getvalue().replace("\r", "\n").splitlines() if ": start" in line or ": done" in line]
    assert [line.split(" ", 1)[1] for line in lines] == ["0/search: start", "0/search: done: run X"]
    assert "1/4" in out.getvalue()  # drawn (tqdm redraws at most every 0.1 s)


def test_no_bars_when_turned_off():
    out = io.StringIO()
    console = StageConsole(stream=out, bars=False)
    console("warm_start", "start")
    console.advance("warm_start", 1, 10, "step")
    assert console._bar is None and "1/10" not in out.getvalue()


def test_training_steps_swaps_the_trainer_display_and_restores_it():
    before = (trainer_module.PrinterCallback, trainer_module.DEFAULT_PROGRESS_CALLBACK)
    console = StageConsole(stream=io.StringIO())
    with training_steps(console):
        swapped = trainer_module.PrinterCallback
        assert swapped is trainer_module.DEFAULT_PROGRESS_CALLBACK and swapped not in before
        # the callback advances the current stage's bar by the Trainer's global step
        console("0/rl", "start")
        state = type("State", (), {"max_steps": 5, "global_step": 2})()
        swapped().on_step_end(None, state, None)
        assert (console._bar.n, console._bar.total, console._bar.unit) == (2, 5, "step")
    assert (trainer_module.PrinterCallback, trainer_module.DEFAULT_PROGRESS_CALLBACK) == before


def test_quiet_libraries_turns_off_their_bars():
    import datasets
    import transformers

    quiet_libraries()
    try:
        assert not datasets.is_progress_bar_enabled()
        assert not transformers.utils.logging.is_progress_bar_enabled()
    finally:
        datasets.enable_progress_bars()
        transformers.logging.enable_progress_bar()
