"""How long the app takes to turn a 2,000-node search tree into the figure it sends to the browser.

Measured, side by side in one run, on the same synthetic MCTS-shaped tree (o1coder.viz.synthetic):

- **ours**: ``o1coder.viz.tree_figure`` (tidy Buchheim layout in O(n), node kinds as a few traces of numpy arrays)
  plus ``plotly.io.to_json``, which is what ``st.plotly_chart`` does with the figure.
- **baseline (naive)**: the recipe a first version would use: children found by scanning the whole node list for
  each node (O(n^2)), leaves placed one per column with parents centred, and one ``go.Scatter`` trace per edge
  plus one per node (``fig.add_trace`` in a loop), then the same ``to_json``.

    python bench/app_tree_render.py [--nodes 2000] [--repeat 5] [--browser /usr/bin/chromium]

Prints the median seconds of each and the ratio; the issue's target is under one second for ours. With
``--browser``, also the time plotly.js takes to draw each figure in headless Chromium (``Plotly.newPlot`` on the
same JSON, plotly.js from the installed plotly package: nothing is downloaded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import plotly.graph_objects as go  # noqa: E402
import plotly.io as pio  # noqa: E402

from o1coder.viz import tidy_layout, tree_figure  # noqa: E402
from o1coder.viz.synthetic import synthetic_tree  # noqa: E402


def naive_layout(tree) -> dict[int, tuple[float, int]]:
    """Leaves one per column, parents centred; children looked up by scanning every node (O(n^2))."""
    positions: dict[int, tuple[float, int]] = {}
    next_leaf = [0.0]

    def place(node_id: int, depth: int) -> float:
        kids = [n.id for n in tree.nodes if n.parent == node_id]
        if not kids:
            x = next_leaf[0]
            next_leaf[0] += 1
        else:
            xs = [place(k, depth + 1) for k in kids]
            x = (xs[0] + xs[-1]) / 2
        positions[node_id] = (x, depth)
        return x

    place(0, 0)
    return positions


def naive_figure(tree) -> go.Figure:
    pos = naive_layout(tree)
    fig = go.Figure()
    for n in tree.nodes[1:]:
        (x0, d0), (x1, d1) = pos[n.parent], pos[n.id]
        fig.add_trace(go.Scatter(x=[x0, x1], y=[-d0, -d1], mode="lines", line=dict(color="#bbb"), showlegend=False,
                                 hoverinfo="skip"))
    for n in tree.nodes:
        x, d = pos[n.id]
        fig.add_trace(go.Scatter(x=[x], y=[-d], mode="markers", marker=dict(color=n.value, size=8, cmin=0, cmax=1),
                                 text=[f"#{n.id} Q/N {n.value:.3f} N {n.visits}"], customdata=[n.id],
                                 showlegend=False))
    return fig


def timed(build, repeat: int) -> tuple[float, int]:
    seconds, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        size = len(pio.to_json(build(), validate=False))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--browser", metavar="CHROMIUM", help="also time the draw in this Chromium binary")
    args = parser.parse_args()
    tree = synthetic_tree(args.nodes, seed=0)
    tree_figure(synthetic_tree(50))  # plotly imports its validators lazily: warm both paths up once
    naive_figure(synthetic_tree(50))
    parents = [n.parent for n in tree.nodes]

    layout_ours = statistics.median(_time(lambda: tidy_layout(parents)) for _ in range(args.repeat))
    layout_naive = statistics.median(_time(lambda: naive_layout(tree)) for _ in range(max(1, args.repeat // 2)))
    ours, ours_bytes = timed(lambda: tree_figure(tree, selected=5), args.repeat)
    naive, naive_bytes = timed(lambda: naive_figure(tree), max(1, args.repeat // 2))
    print(f"tree: {args.nodes} nodes, depth {max(n.depth for n in tree.nodes)}, "
          f"{sum(1 for n in tree.nodes if n.reward is not None)} terminals")
    print(f"layout only        ours (tidy, O(n)) {layout_ours * 1000:8.1f} ms   baseline (naive O(n^2)) "
          f"{layout_naive * 1000:8.1f} ms   x{layout_naive / layout_ours:.0f}")
    print(f"layout+figure+JSON ours              {ours * 1000:8.1f} ms   baseline (naive, trace per edge) "
          f"{naive * 1000:8.1f} ms   x{naive / ours:.1f}")
    print(f"JSON sent to the browser: ours {ours_bytes / 1e3:.0f} kB, baseline {naive_bytes / 1e3:.0f} kB")
    print(f"target: under 1 s for ours -> {'met' if ours < 1.0 else 'NOT met'}")
    if args.browser:
        drawn = browser_draw_seconds(args.browser, {"ours": tree_figure(tree, selected=5),
                                                    "baseline": naive_figure(tree)})
        print(f"drawn by plotly.js in Chromium: ours {drawn['ours'] * 1000:.0f} ms, baseline "
              f"{drawn['baseline'] * 1000:.0f} ms (x{drawn['baseline'] / drawn['ours']:.1f}); "
              f"server + browser for ours: {(ours + drawn['ours']) * 1000:.0f} ms")


def browser_draw_seconds(chromium: str, figures: dict) -> dict[str, float]:
    """Median time of ``Plotly.newPlot`` for each figure's JSON in headless Chromium (3 draws each)."""
    import tempfile

    from playwright.sync_api import sync_playwright
    from plotly.offline import get_plotlyjs

    out = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_file = Path(tmp) / "draw.html"
        page_file.write_text(f"<html><body><div id='g' style='width:1200px;height:800px'></div>"
                             f"<script>{get_plotlyjs()}</script></body></html>")
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        page = browser.new_page()
        page.goto(page_file.as_uri())
        for name, figure in figures.items():
            spec = pio.to_json(figure, validate=False)
            times = page.evaluate("""async (spec) => {
                const fig = JSON.parse(spec), out = [];
                for (let i = 0; i < 3; i++) {
                    Plotly.purge('g');
                    const t = performance.now();
                    await Plotly.newPlot('g', fig.data, fig.layout);
                    out.push((performance.now() - t) / 1000);
                }
                return out;
            }""", spec)
            out[name] = statistics.median(times)
        browser.close()
    return out


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
