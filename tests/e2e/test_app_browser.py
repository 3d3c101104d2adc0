"""The app in a real browser: Streamlit serves it on 127.0.0.1, Playwright drives Debian's chromium.

A run is opened, a node is clicked in the search tree, and its code must appear in the node panel. The same
helpers take the README screenshots of every page:

    python tests/e2e/test_app_browser.py docs/screenshots        # what `make screenshots` runs

Chromium comes from the system (`make test` installs Debian's package when it can); Playwright never downloads a
browser here. Without chromium the test is skipped with a message naming what to install.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from app_fixture import build_app_runs, build_for_tests  # noqa: E402

CHROMIUM = os.environ.get("O1CODER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
SCREENSHOT_VIEWPORT = {"width": 1400, "height": 1500}  # Streamlit scrolls inside its main block: a tall window
# page -> an element that is there once the page has drawn
PAGES = {
    "runs": '[data-testid="stDataFrame"]',
    "tree": ".js-plotly-plot .scatterlayer .trace .points path",
    "rewards": ".js-plotly-plot .boxlayer path",
    "refinement": '[data-testid="stCode"]',
    "metrics": ".js-plotly-plot .scatterlayer .trace path",
}


def chromium_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return (f"no chromium at {CHROMIUM}: install Debian's package (apt-get install chromium; `make test` does it "
                "as root) or set O1CODER_CHROMIUM to a Chromium binary")
    if importlib.util.find_spec("playwright") is None:
        return "the playwright Python package is missing: pip install -e '.[dev]'"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(runs_dir: Path, log: Path):
    """``streamlit run app/main.py`` headless on a free port of 127.0.0.1; yields its base URL."""
    port = free_port()
    env = {**os.environ, "O1CODER_RUNS_DIR": str(runs_dir), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--global.developmentMode", "false"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def browser_page(viewport: dict = VIEWPORT):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport=viewport)
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def wait_until_idle(page, ready: str | None = None) -> None:
    """Streamlit has finished the script run (no skeletons, no "running" indicator) and ``ready`` is drawn."""
    page.wait_for_selector('[data-testid="stMain"]')
    if ready:
        page.wait_for_selector(ready, state="attached")
    page.wait_for_function("""() => !document.querySelector('[data-testid="stSkeleton"]')
                              && !document.querySelector('[data-testid="stStatusWidget"]')""")
    page.wait_for_timeout(500)  # let plotly finish its transitions


def open_view(page, base: str, name: str, **params) -> None:
    """Open a page by name with query parameters (the default page, Runs, lives at the root URL)."""
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items() if v is not None)
    page.goto(f"{base}/{'' if name == 'runs' else name}" + (f"?{query}" if query else ""))
    wait_until_idle(page, PAGES.get(name))


def click_node(page, node_id: int) -> None:
    """Click the marker of ``node_id`` in the tree figure (found by its hover text, which starts with its id)."""
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace .points path")
    where = page.evaluate(
        """(nodeId) => {
            const gd = document.querySelector('.js-plotly-plot');
            for (const [t, trace] of gd._fullData.entries()) {
                const texts = trace.hovertext || [];
                for (let i = 0; i < texts.length; i++) {
                    if (String(texts[i]).startsWith('#' + nodeId + ' ')) return [t, i];
                }
            }
            return null;
        }""", node_id)
    assert where is not None, f"node {node_id} is not in the figure"
    trace, point = where
    marker = page.locator(".js-plotly-plot .scatterlayer .trace").nth(trace).locator("path.point").nth(point)
    box = marker.bounding_box()
    assert box is not None, f"node {node_id}'s marker is not drawn"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def code_of(runs_dir: Path, run: str, problem: str, node_id: int) -> str:
    from o1coder.reasoning import parse
    from o1coder.runs import load_tree

    return parse(load_tree(run, problem, runs_dir).nodes[node_id].text).step.code


def save_screenshots(base: str, facts: dict, out_dir: Path) -> list[Path]:
    """One PNG per page of the app on the fixture's deep run (palette PNGs: small enough to commit)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run, problem = facts["trace"], facts["deep_problem"]
    params = {
        "runs": {"run": run}, "tree": {"run": run, "problem": problem, "node": facts["code_node"]},
        "rewards": {"run": run}, "refinement": {"run": run, "problem": problem, "node": facts["deep_terminal"]},
        "metrics": {"run": run},
    }
    saved = []
    with browser_page(SCREENSHOT_VIEWPORT) as page:
        for name in PAGES:
            open_view(page, base, name, **params[name])
            path = out_dir / f"{name}.png"
            page.screenshot(path=str(path))
            _shrink(path)
            saved.append(path)
    return saved


def _shrink(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


# --- the test ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_runs(tmp_path_factory) -> dict:
    return build_for_tests(tmp_path_factory)


@pytest.fixture(scope="module")
def app_url(app_runs, tmp_path_factory):
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    with serve_app(Path(app_runs["runs_dir"]), tmp_path_factory.mktemp("streamlit") / "server.log") as base:
        yield base


def test_open_a_run_click_a_node_and_see_its_code(app_url, app_runs, tmp_path):
    runs_dir = Path(app_runs["runs_dir"])
    run, problem, node = app_runs["trace"], app_runs["deep_problem"], app_runs["code_node"]
    with browser_page() as page:
        open_view(page, app_url, "runs", run=run)
        assert page.get_by_text(f"Run {run}").first.is_visible()
        page.get_by_test_id("stMainBlockContainer").get_by_role("link", name="Search tree").click()
        wait_until_idle(page)
        assert f"run={run}" in page.url
        page.get_by_text("Click a node in the tree, or type").wait_for()  # no node chosen yet
        # the problem picker starts at the run's first problem; the deep problem is chosen through the URL
        open_view(page, app_url, "tree", run=run, problem=problem)
        click_node(page, node)
        page.get_by_text(f"Node #{node} · code").wait_for()
        code = code_of(runs_dir, run, problem, node)
        first_line = code.strip().splitlines()[0]
        page.locator('[data-testid="stCode"]').filter(has_text=first_line).first.wait_for()
        assert f"node={node}" in page.url  # the view is sharable
        page.screenshot(path=str(tmp_path / "tree-node-selected.png"), full_page=True)
    assert (tmp_path / "tree-node-selected.png").stat().st_size > 10_000


if __name__ == "__main__":  # make screenshots
    import tempfile

    target = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots").resolve()
    problem = chromium_missing()
    if problem:
        sys.exit(problem)
    with tempfile.TemporaryDirectory(prefix="o1coder-screenshots-") as tmp:
        os.environ.setdefault("O1CODER_CACHE_DIR", str(Path(tmp) / "cache"))
        facts = build_app_runs(Path(tmp) / "runs")
        with serve_app(Path(facts["runs_dir"]), Path(tmp) / "server.log") as base:
            for saved in save_screenshots(base, facts, target):
                print(f"{saved} ({saved.stat().st_size // 1024} KiB)")
