"""The o1coder app: watch and inspect search trees, step rewards, pseudocode refinements and metrics, live.

    streamlit run app/main.py          # or: make app

It reads the runs directory ($O1CODER_RUNS_DIR, else data/runs) through o1coder.runs and draws with o1coder.viz;
it holds no search or training logic. Each page is one render function in app/views/ (not app/pages/: Streamlit
runs a ``pages/`` folder beside the entry point as an old-style multipage app until st.navigation has run once in
the process, so a shared link opened first on a fresh server would show a bare page).
"""

from __future__ import annotations

import streamlit as st
from ui import common, state

from o1coder.runs import RunStoreError

PAGES = [
    ("views/runs.py", "Runs", ":material/list_alt:", "runs"),
    ("views/tree.py", "Search tree", ":material/account_tree:", "tree"),
    ("views/rewards.py", "Step rewards", ":material/leaderboard:", "rewards"),
    ("views/refinement.py", "Pseudocode refinement", ":material/difference:", "refinement"),
    ("views/metrics.py", "Metrics", ":material/monitoring:", "metrics"),
]


def run() -> None:
    st.set_page_config(page_title="o1coder", page_icon=":material/account_tree:", layout="wide")
    page = st.navigation([st.Page(path, title=title, icon=icon, url_path=url, default=url == "runs")
                          for path, title, icon, url in PAGES])
    state.sync_url()
    try:
        common.sidebar_run_picker()
        page.run()
    except RunStoreError as e:
        common.store_error(e)
    except Exception as e:
        common.unexpected_error(e)


run()
