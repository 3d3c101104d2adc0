"""Strip outputs, execution counts and widget state from notebooks, in place, so they are committed clean.

    python scripts/strip_notebooks.py                  # every notebooks/*.ipynb
    python scripts/strip_notebooks.py path.ipynb ...   # just these
    python scripts/strip_notebooks.py --check          # change nothing; exit 1 and name what is not stripped

tests/test_notebooks.py runs the same check on every committed notebook.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
# per-cell metadata that JupyterLab and nbclient write while running a notebook
RUN_METADATA = ("execution", "collapsed", "scrolled")


def unstripped(nb: nbformat.NotebookNode) -> list[str]:
    """What in ``nb`` should not be committed, one short line per kind; [] when the notebook is clean."""
    code = [(index, cell) for index, cell in enumerate(nb.cells, start=1) if cell.cell_type == "code"]
    kinds = {
        "outputs": [i for i, cell in code if cell.get("outputs")],
        "execution counts": [i for i, cell in code if cell.get("execution_count") is not None],
        "run metadata": [i for i, cell in code if any(key in cell.get("metadata", {}) for key in RUN_METADATA)],
    }
    found = [f"{kind} in cells {_numbers(cells)}" for kind, cells in kinds.items() if cells]
    if "widgets" in nb.metadata:
        found.append("widget state in the notebook metadata")
    return found


def _numbers(cells: list[int]) -> str:
    return ", ".join(map(str, cells[:8])) + (f" and {len(cells) - 8} more" if len(cells) > 8 else "")


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` without outputs, execution counts, run metadata or widget state (modified in place and returned)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            for key in RUN_METADATA:
                cell.metadata.pop(key, None)
    nb.metadata.pop("widgets", None)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="report notebooks that need stripping; change nothing")
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    dirty = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        reasons = unstripped(nb)
        if not reasons:
            continue
        dirty += 1
        if args.check:
            print(f"{path}: {'; '.join(reasons)}")
        else:
            nbformat.write(strip(nb), path)
            print(f"stripped {path}")
    if args.check and dirty:
        print(f"{dirty} notebook(s) need stripping: python scripts/strip_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
