"""Runs: every run of the runs directory, live; the chosen run's problems; starting the demo or a search."""

from __future__ import annotations

import shlex

import pandas as pd
import streamlit as st
from ui import common, data, launch, state

from o1coder.config import list_recipes

WHAT_IS_A_RUN = """A **run** is one search over a problem set: for every problem, Monte Carlo Tree Search grows a
tree of typed pseudocode steps (define the structure, refine it, write the code), runs each program in the sandbox
and backs the test results up the tree. Everything is recorded as it happens in the run store
(`<runs dir>/runs.sqlite`): the trees, each problem's answer and hidden-test verdict, tokens, executions and
metrics. This app follows runs live from there; `o1coder search` (or the form below) starts one."""


def render() -> None:
    st.title("Runs")
    where = data.runs_dir()
    runs = data.list_runs(where)
    launched = st.session_state.setdefault("launched", [])
    listing, starting = st.container(), st.container()
    with starting:  # first, so that a process started now makes the listing below follow it live
        if not runs:
            st.markdown(WHAT_IS_A_RUN)
            _demo_button(where)
        with st.expander("Start a search", expanded=not runs):
            _search_form(where)
    live = any(common.is_live(r) for r in runs) or any(p.running for p in launched)
    with listing:
        st.fragment(run_every=data.LIVE_REFRESH if live else None)(common.guarded(runs_view))(live)


def runs_view(live: bool) -> None:
    where = data.runs_dir()
    runs = data.list_runs(where)
    _follow_launched(runs)
    launched = st.session_state.get("launched", [])
    if live and not any(common.is_live(r) for r in runs) and not any(p.running for p in launched):
        st.rerun()  # everything stopped: draw the page once more, without the timer
    if not runs:
        st.info(f"No runs in `{where}` yet.", icon=":material/info:")
        return
    nested = data.nested_runs(where, runs)  # a loop's searches and evaluations listed under it
    st.session_state["runs_order"] = [r.id for r, _ in nested]
    table = pd.DataFrame([{
        "run": r.id if stage is None else f"  └ {r.id}", "kind": r.kind if stage is None else f"{r.kind} · {stage}",
        "status": common.status_text(r), "recipe": r.recipe, "model": common.model_name(r),
        "problems": f"{r.problems_done}/{r.problems_planned}", "pass rate": common.percent(r.pass_rate),
        "tokens": r.tokens, "executions": r.executions, "started": common.started(r.created),
        "duration": common.duration(r.duration),
    } for r, stage in nested])
    st.dataframe(table, hide_index=True, width="stretch", key="runs_table", on_select=_row_chosen,
                 selection_mode="single-row")
    run = common.current_run()
    if run is None:
        return
    st.subheader(f"Run {run.id}")
    common.status_banner(run)
    links = st.columns(4)
    for col, (page, label) in zip(links, [("views/tree.py", "Search tree"), ("views/rewards.py", "Step rewards"),
                                          ("views/refinement.py", "Pseudocode refinement"),
                                          ("views/metrics.py", "Metrics")]):
        col.page_link(page, label=label, query_params={"run": run.id})
    problems = data.problems(where, run.id)
    counts = data.problem_results(where, run.id, run.heartbeat)
    passed = dict(zip(counts["problem_id"], counts["passed"]))
    view = problems.assign(passed=[passed.get(p) for p in problems["problem_id"]])
    st.dataframe(view[["position", "problem_id", "status", "rollouts", "passed"]], hide_index=True, width="stretch")
    with st.expander("Recipe, versions and provenance"):
        st.json({"recipe": run.config, "problem_spec": run.problem_spec, "limit": run.problem_limit,
                 "seed": run.seed, "data_hash": run.data_hash, "versions": run.versions, "host": run.host,
                 "pid": run.pid, "sessions": run.sessions})


def _row_chosen() -> None:
    rows = (st.session_state.get("runs_table") or {}).get("selection", {}).get("rows", [])
    order = st.session_state.get("runs_order") or [r.id for r in data.list_runs(data.runs_dir())]
    if rows and rows[0] < len(order):
        state.remember("run", order[rows[0]])


def _follow_launched(runs) -> None:
    """Background processes of this session: status and log tail; the run each one writes becomes the current
    run (:func:`common.follow_launched`), and the whole page is drawn again when that run changes."""
    launched = st.session_state.get("launched", [])
    before = [proc.run_id for proc in launched]
    common.follow_launched(runs)
    if [proc.run_id for proc in launched] != before:
        st.rerun()
    for proc in launched:
        code = proc.returncode
        status = "running" if code is None else ("finished" if code == 0 else f"exited with status {code}")
        box = st.status(f"`o1coder {proc.label}` (pid {proc.pid}): {status}"  # not `with`: that marks it complete
                        + (f" · following run {proc.run_id}" if proc.run_id else ""),
                        state="running" if code is None else ("complete" if code == 0 else "error"),
                        expanded=code not in (None, 0))
        box.caption(f"log: `{proc.log}`")
        box.code(proc.tail() or "(no output yet)", language="text")


def _demo_button(where: str) -> None:
    st.markdown("The quickest way to see the app at work is the **offline demo**: the project's tiny model searches "
                "a few bundled problems on this CPU, and this page follows it.")
    if st.button("Start the demo (`o1coder demo`)", type="primary", icon=":material/play_arrow:"):
        if "demo" not in launch.cli_verbs():
            st.warning("This installation's `o1coder` has no `demo` command yet. Start a search with the form "
                       "below instead (the tiny-cpu recipe on the bundled problems runs offline in well under a "
                       "minute), or in a terminal: `o1coder search --recipe tiny-cpu --problems bundled --limit 3`.",
                       icon=":material/construction:")
            return
        st.session_state["launched"].append(launch.start("demo", ["demo", "--runs-dir", where], where))


def _search_form(where: str) -> None:
    with st.form("search_form"):
        st.caption("Runs `o1coder search` in the background (it keeps running if you close the app); the new run "
                   "appears above and the app follows it.")
        recipes = list_recipes()
        c1, c2, c3 = st.columns(3)
        recipe = c1.selectbox("Recipe", [*recipes, "a YAML file…"], key="form_recipe",
                              index=recipes.index("tiny-cpu") if "tiny-cpu" in recipes else 0)
        recipe_path = c1.text_input("YAML file (for 'a YAML file…')", key="form_recipe_path")
        problems = c2.text_input("Problems", "bundled:train", key="form_problems",
                                 help="bundled, bundled:train, bundled:eval, synthetic:train or synthetic:eval (e.g. "
                                      "synthetic:eval,n=50,level=2), NAME:PATH (e.g. "
                                      "mbpp:../shared/data/mbpp.jsonl) or NAME (the hub)")
        limit = c2.number_input("Limit (0: all)", min_value=0, value=3, step=1, key="form_limit")
        backend = c3.selectbox("Model backend", ["(recipe's)", "transformers", "vllm", "openai"], key="form_backend")
        model = c3.text_input("Model (name or path; empty: the recipe's)", key="form_model")
        extra = st.text_area("More overrides, one KEY=VALUE per line", key="form_overrides",
                             placeholder="search.rollouts=16\nsampling.temperature=0.7")
        submitted = st.form_submit_button("Start the search", icon=":material/rocket_launch:")
    if not submitted:
        return
    name = recipe_path.strip() if recipe == "a YAML file…" else recipe
    overrides = [line.strip() for line in extra.splitlines() if line.strip()]
    if backend != "(recipe's)":
        overrides.append(f"model.backend={backend}")
    if model.strip():
        overrides.append(f"model.name_or_path={model.strip()}")
    try:
        if not name:
            raise ValueError("choose a recipe, or give the path of a YAML file")
        launch.check_search(name, problems, overrides)
    except (ValueError, FileNotFoundError, ImportError) as e:
        st.error(f"Not started: {e}", icon=":material/error:")
        return
    args = launch.search_args(name, problems.strip(), limit=int(limit) or None, overrides=overrides, runs_dir=where)
    proc = launch.start("search", args, where)
    st.session_state["launched"].append(proc)
    st.success(f"Started `o1coder {shlex.join(args)}` (pid {proc.pid}); the new run appears above.",
               icon=":material/rocket_launch:")


render()
