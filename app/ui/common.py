"""Pieces every page shares: run labels and status banners, the current run, and errors shown as messages."""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable

import streamlit as st

from o1coder.runs import RunInfo, RunNotFound, RunStoreError

from . import data, state

log = logging.getLogger("o1coder.app")

RUNS_PAGE = "views/runs.py"


def percent(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.1%}"


def duration(seconds: float | None) -> str:
    seconds = round(seconds or 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def started(stamp: float | None) -> str:
    return "–" if not stamp else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def status_text(run: RunInfo) -> str:
    return "running? (process gone)" if run.stale else run.status


def run_label(run: RunInfo) -> str:
    return f"{run.id} · {status_text(run)} · {run.recipe or run.kind}"


def model_name(run: RunInfo) -> str:
    model = run.config.get("model") or {}
    return f"{model.get('name_or_path', '?')} ({model.get('backend', '?')})" if model else "–"


def is_live(run: RunInfo) -> bool:
    """Being written right now by a process that is alive: pages showing it refresh themselves."""
    return run.status == "running" and not run.stale


def status_banner(run: RunInfo) -> None:
    """One line on how the run stands, with what to do about a run that stopped."""
    if run.status == "failed":
        st.error(f"Run {run.id} crashed: {run.error or 'no error recorded'}. What it recorded before is shown "
                 f"below; continue it with `o1coder search --resume {run.id}`.", icon=":material/error:")
    elif run.stale:
        st.warning(f"Run {run.id} is marked running but its process is gone (killed or crashed). Continue it with "
                   f"`o1coder search --resume {run.id}`.", icon=":material/warning:")
    elif run.status == "interrupted":
        st.info(f"Run {run.id} was interrupted after {run.problems_done}/{run.problems_planned} problems; continue it "
                f"with `o1coder search --resume {run.id}`.", icon=":material/pause_circle:")
    elif run.status == "running":
        st.info(f"Run {run.id} is running: {run.problems_done}/{run.problems_planned} problems done. This page "
                f"follows it live (every {data.LIVE_REFRESH:g} s).", icon=":material/autorenew:")


def progress_signature(run_id: str) -> tuple:
    """What changes the layout of a page around a live run: its status and which problems started or finished."""
    where = data.runs_dir()
    run = data.get_run(where, run_id)
    frame = data.problems(where, run_id)
    return (run.status, run.stale, tuple(frame["status"]))


def watching(run: RunInfo) -> bool:
    """Whether a page showing ``run`` refreshes itself: the run is live, or a process this session started is
    still running (it may start the next run, which the page then follows)."""
    return is_live(run) or any(p.running for p in st.session_state.get("launched", []))


def follow(run_id: str, seen: tuple) -> None:
    """Inside a live fragment: rerun the whole page once the run moved on (a problem started or finished, the
    run ended) or a process started here began its next run, so pickers and banners catch up; otherwise only the
    fragment refreshes."""
    if st.session_state.get("launched"):
        follow_launched(data.list_runs(data.runs_dir()))
        if state.current("run") != run_id:
            st.rerun()
    if progress_signature(run_id) != seen:
        st.rerun()


def store_error(error: Exception) -> None:
    """A run store that cannot be read: what happened and what to do, never a traceback."""
    if isinstance(error, RunNotFound):
        st.warning(f"{error}", icon=":material/search_off:")
        return
    st.error(f"The run store cannot be read. {error}\n\nThe app reads `{data.runs_dir()}` (set O1CODER_RUNS_DIR "
             "to read another folder).", icon=":material/database:")


def unexpected_error(error: Exception) -> None:
    log.exception("the app failed on %s", type(error).__name__)
    st.error(f"Something went wrong while showing this page: {type(error).__name__}: {error}. The details are in "
             "the app's log (the terminal running streamlit).", icon=":material/bug_report:")


def guarded(render: Callable) -> Callable:
    """Show store errors and unexpected errors as messages (fragments rerun outside the page's own guard)."""
    @functools.wraps(render)
    def wrapper(*args, **kwargs):
        try:
            return render(*args, **kwargs)
        except RunStoreError as e:
            store_error(e)
        except Exception as e:
            unexpected_error(e)
    return wrapper


def no_runs() -> None:
    st.info(f"No runs in `{data.runs_dir()}` yet. The Runs page explains what a run is and starts one.",
            icon=":material/info:")
    st.page_link(RUNS_PAGE, label="Go to Runs", icon=":material/play_arrow:")


def no_trees(run: RunInfo) -> None:
    """A run that records no trees itself (evaluation, self-play loop): say so, and link its search runs (live)."""
    st.info(f"This run ({run.kind}) recorded no search tree. Its numbers are on the Metrics page."
            + (" A self-play loop searches in runs of its own:" if run.kind == "loop" else ""),
            icon=":material/info:")
    if run.kind == "loop":
        st.fragment(run_every=data.LIVE_REFRESH if watching(run) else None)(guarded(_loop_searches))(run)


def _loop_searches(run: RunInfo) -> None:
    runs = data.list_runs(data.runs_dir())
    follow_launched(runs)
    if state.current("run") != run.id:  # a process started here moved on to its next search: show that one
        st.rerun()
    for r in [r for r in runs if r.kind == "search" and r.created >= run.created][:6]:
        st.page_link("views/tree.py", label=run_label(r), query_params={"run": r.id},
                     icon=":material/account_tree:")


def current_run() -> RunInfo | None:
    """The run picked in the sidebar (None, with an explanation, when there is none)."""
    runs = data.list_runs(data.runs_dir())
    if not runs:
        no_runs()
        return None
    by_id = {r.id: r for r in runs}
    run_id = state.current("run")
    if run_id not in by_id:
        run_id = runs[0].id
        state.remember("run", run_id)
    return by_id[run_id]


def follow_launched(runs: list[RunInfo]) -> None:
    """Make the newest run of a process started from this session the current run, while the user stays on it.

    A search makes one run; the demo (a self-play loop) makes a loop run and then one search run after another:
    the one being searched is followed, so the tree page shows the tree growing now.
    """
    for proc in st.session_state.get("launched", []):
        new = [r for r in runs if r.created >= proc.started - 1]  # newest first
        if not new:
            continue
        searches = [r for r in new if r.kind == "search"]  # a loop run itself holds no trees: follow its searches
        best = next((r for r in searches if r.status == "running"), None) or (searches or new)[0]
        if best.id != proc.run_id and (proc.run_id is None or state.current("run") in (None, proc.run_id)):
            proc.run_id = best.id
            state.remember("run", best.id)


def sidebar_run_picker() -> None:
    runs = data.list_runs(data.runs_dir())
    if not runs:
        st.sidebar.caption(f"No runs in `{data.runs_dir()}` yet.")
        return
    follow_launched(runs)
    by_id = {r.id: r for r in runs}
    asked = state.current("run")
    if asked is not None and asked not in by_id:
        st.warning(f"There is no run {asked!r} in `{data.runs_dir()}`; showing the newest run instead.",
                   icon=":material/search_off:")
    state.pick("run", "Run", list(by_id), format_func=lambda rid: run_label(by_id[rid]), where=st.sidebar,
               help="Every page shows this run; the choice is in the URL, so a link opens the same view.")
    st.sidebar.caption(f"Runs directory: `{data.runs_dir()}`")
