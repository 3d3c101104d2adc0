"""``o1coder export``: a run's trees as JSON files and the training datasets built from them.

Layout of the output folder::

    run.json                 the run's record (config, versions, seed, data hash, totals)
    results.jsonl            one line per finished problem (answer, hidden-test verdict, stats)
    trees/<problem>.json     one Tree JSON per finished problem (schema in o1coder/search/tree.py and the README)
    trees/index.json         problem id -> file name (ids like "mbpp/11" are not file names)
    datasets/<name>/         D_process, D+ and sibling pairs (``datasets.Dataset.save_to_disk``; names from
                             o1coder.search.datasets); needs the problems, re-read from the run's problem spec

Only finished problems are exported: a problem in progress has a partial tree. Exporting a running run is fine.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from o1coder.runs import readers
from o1coder.search.tree import Tree

log = logging.getLogger(__name__)


@dataclass
class ExportReport:
    run_id: str
    out: Path
    trees: dict[str, str] = field(default_factory=dict)  # problem id -> file under trees/
    datasets: dict[str, int] = field(default_factory=dict)  # dataset name -> rows
    skipped: list[str] = field(default_factory=list)  # problems not finished yet
    note: str | None = None  # why datasets were not written, if they were not


def export_run(run: str, out: str | Path, runs_dir: str | Path | None = None, datasets: bool = True) -> ExportReport:
    """Write run ``run`` (an id or "latest") to the folder ``out``; returns what was written."""
    info = readers.get_run(run, runs_dir)
    out = Path(out)
    (out / "trees").mkdir(parents=True, exist_ok=True)
    report = ExportReport(info.id, out)
    status = readers.problems(info.id, runs_dir)
    results = readers.problem_results(info.id, runs_dir)
    trees = []
    for problem_id, problem_status in zip(status["problem_id"], status["status"]):
        if problem_status != "finished":
            report.skipped.append(problem_id)
            continue
        tree = readers.load_tree(info.id, problem_id, runs_dir)
        name = _file_name(problem_id, set(report.trees.values()))
        tree.save(out / "trees" / name)
        report.trees[problem_id] = name
        trees.append(tree)
    (out / "trees" / "index.json").write_text(json.dumps(report.trees, indent=1))
    (out / "run.json").write_text(json.dumps(info.to_dict(), indent=1, default=str))
    with open(out / "results.jsonl", "w") as f:
        for record in results.to_dict(orient="records"):
            f.write(json.dumps(_plain(record), default=str) + "\n")
    if datasets:
        report.datasets, report.note = _write_datasets(info, trees, out / "datasets", runs_dir)
    log.info("exported run %s: %d trees to %s", info.id, len(report.trees), out)
    return report


def _write_datasets(info: readers.RunInfo, trees: list[Tree], folder: Path,
                    runs_dir: str | Path | None) -> tuple[dict[str, int], str | None]:
    """D_process, D+ and sibling pairs through o1coder.search.datasets (the search package owns their format).

    The rows hold prompts, so the problems are needed: they are re-read from the run's problem spec and checked
    against its data hash (a run does not copy its problem set into the store)."""
    from o1coder.runs.driver import planned_problems

    try:
        problems = planned_problems(info, runs_dir)
    except (ValueError, FileNotFoundError) as error:
        return {}, f"datasets not written: the run's problems cannot be read again ({error})"
    try:
        from o1coder.search.datasets import build_datasets

        built = build_datasets(trees, problems)
    except ImportError as error:
        return {}, f"datasets not written: {error}"
    counts = {}
    for name, dataset in built.items():
        dataset.save_to_disk(str(folder / name))
        counts[name] = len(dataset)
    return counts, None


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _file_name(problem_id: str, taken: set[str]) -> str:
    """A file name for a problem id: "mbpp/11" -> "mbpp__11.json" (unique within the export)."""
    stem = _UNSAFE.sub("_", problem_id.replace("/", "__")).strip("._") or "problem"
    name, n = f"{stem}.json", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.json"
    return name


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """numpy scalars and NaN (from the DataFrame) as plain JSON values."""
    out = {}
    for key, value in record.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and value != value:
            value = None
        out[key] = value
    return out
