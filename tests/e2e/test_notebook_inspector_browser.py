"""The interactive tree inspector of notebook 03 (``o1coder.viz.notebook.TreeInspector``) in a real JupyterLab,
driven through Debian's chromium by Playwright.

Headless execution (tests/test_notebooks.py) proves notebook 03's cells run; only a browser proves the widget
works: the figure is drawn by the JupyterLab widget manager, a click on a node travels to the kernel, and the panel
under the figure changes. A notebook of two cells (a small search tree, then the inspector exactly as notebook 03
shows it) is written into a temporary folder, JupyterLab is started there with its application exposed to the
page, the cells are run, and a node other than the selected one is clicked. (All of notebook 03 runs the tiny model
and searches first: minutes on a loaded CPU before the inspector appears.) Skipped with a message when chromium is
absent.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from o1coder.paths import PROJECT_ROOT

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_app_browser import CHROMIUM, CHROMIUM_ARGS, chromium_missing  # the app's browser test: same chromium

NOTEBOOK = "inspector.ipynb"
TOKEN = "o1coder-test"
TREE = """from o1coder.search.tree import Tree

tree = Tree("demo/inspector")
root = tree.add(None, None, "")
outline = tree.add(root.id, 1, "Action 1 (structure): Outline\\n<|end_step|>")
code = tree.add(outline.id, 3, "Action 3 (code): Write it\\n```python\\ndef f(x):\\n    return x\\n```\\n<|end_step|>")
other = tree.add(root.id, 1, "Action 1 (structure): Another outline\\n<|end_step|>")
for node in tree.nodes:
    node.visits = 2"""
INSPECTOR = """from o1coder.viz.notebook import TreeInspector

inspector = TreeInspector(tree)
inspector"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(TREE), nbformat.v4.new_code_cell(INSPECTOR)]
    nbformat.write(notebook, tmp_path / NOTEBOOK)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={tmp_path}", "--ServerApp.allow_root=True",
         "--LabApp.expose_app_in_browser=True"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={TOKEN}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_a_click_on_a_node_updates_the_inspector_panel(lab):
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    current = "window.jupyterapp.shell.currentWidget"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(lab, timeout=120_000)
            page.wait_for_function(f"window.jupyterapp && {current} && {current}.sessionContext", timeout=120_000)
            # the kernel is ready once the lab has started it; it may first ask to "select a kernel", and on a busy
            # machine it asks late: accept the dialog whenever it shows up, until the session is ready
            ready = (f"() => Promise.race([{current}.sessionContext.ready.then(() => true), "
                     "new Promise(resolve => setTimeout(() => resolve(false), 1000))])")
            deadline = time.monotonic() + 300
            while not page.evaluate(ready):
                if page.query_selector(".jp-Dialog .jp-mod-accept"):
                    page.click(".jp-Dialog .jp-mod-accept")
                if time.monotonic() > deadline:
                    pytest.fail("the notebook's kernel was not ready 300 s after the lab opened it")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # the inspector: a plotly figure widget with its HTML panel right under it
            inspector = page.locator(".widget-vbox", has=page.locator(".js-plotly-plot")).first
            inspector.locator("g.points path.point").first.wait_for(timeout=180_000)
            panel = inspector.locator(".widget-html-content").first
            page.wait_for_function("el => el.innerText.includes('path:')", arg=panel.element_handle(),
                                   timeout=60_000)
            before = panel.inner_text()
            changed = None
            for point in inspector.locator("g.points path.point").all():
                point.click(force=True)
                try:
                    page.wait_for_function("([el, old]) => el.innerText !== old", arg=[panel.element_handle(), before],
                                           timeout=10_000)
                except Exception:  # this point is the selected node, a ring or a legend item: try the next one
                    continue
                changed = panel.inner_text()
                break
            assert changed is not None, f"no click changed the panel (it shows: {before[:200]!r})"
            assert changed.startswith("#") and "path: #0" in changed and changed != before
        finally:
            browser.close()
