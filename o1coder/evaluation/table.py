"""Table 1's layout: one row per model; Pass@1 and ASPR for vanilla and pseudocode prompting and their differences.

Our row comes from an :class:`~o1coder.evaluation.harness.EvalReport`; the paper's rows follow it (see
:mod:`o1coder.evaluation.paper`). The frame holds fractions (what the run store holds); Markdown shows percentages
with one decimal like the paper; the CSV keeps the fractions unrounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o1coder.evaluation import paper

if TYPE_CHECKING:
    import pandas as pd

    from o1coder.evaluation.harness import EvalReport

COLUMNS = ("vanilla_pass@1", "vanilla_aspr", "pseudocode_pass@1", "pseudocode_aspr", "delta_pass@1", "delta_aspr")
HEADERS = ("Vanilla Pass@1", "Vanilla ASPR", "Pseudocode Pass@1", "Pseudocode ASPR", "Δ Pass@1", "Δ ASPR")
EXTRA = ("source", "problems", "vanilla_aspr_problems", "pseudocode_aspr_problems")


def our_row(report: EvalReport, label: str | None = None) -> dict[str, Any]:
    """Table 1's columns for one evaluation report (None where a mode was not evaluated)."""
    metrics = report.metrics()
    row: dict[str, Any] = {"model": label or report.model, "source": "ours"}
    for mode in ("vanilla", "pseudocode"):
        row[f"{mode}_pass@1"] = metrics.get(f"eval/pass@1/{mode}")
        row[f"{mode}_aspr"] = metrics.get(f"eval/aspr/{mode}")
        row[f"{mode}_aspr_problems"] = metrics.get(f"eval/aspr_problems/{mode}")
    row["delta_pass@1"] = metrics.get("eval/delta/pass@1")
    row["delta_aspr"] = metrics.get("eval/delta/aspr")
    row["problems"] = max((report.summary(m)["problems"] for m in report.modes), default=0)
    return row


def table1(rows: Sequence[Mapping[str, Any]], with_paper: bool = True) -> pd.DataFrame:
    """The Table 1 frame (index: model) from our rows, followed by the paper's rows."""
    import pandas as pd

    records = [dict(r) for r in rows] + (paper.paper_rows() if with_paper else [])
    frame = pd.DataFrame.from_records(records, columns=["model", *COLUMNS, *EXTRA])
    return frame.set_index("model")


def to_markdown(frame: pd.DataFrame, notes: Sequence[str] = ()) -> str:
    """Markdown in the paper's units (percent, one decimal; differences signed)."""
    lines = ["| Model | " + " | ".join(HEADERS) + " |", "|---|" + "---:|" * len(HEADERS)]
    for model, row in frame.iterrows():
        cells = [_percent(row[c], signed=c.startswith("delta")) for c in COLUMNS]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    body = "\n".join(lines)
    return body + ("\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "") + "\n"


def table_notes(report: EvalReport, benchmark: str | None) -> list[str]:
    """What a reader needs to read our row: problem counts, samples, ASPR's included/excluded problems, source."""
    notes = []
    for mode in report.modes:
        s = report.summary(mode)
        notes.append(f"{mode}: {s['problems']} problems{f' of {benchmark}' if benchmark else ''}, "
                     f"{s['samples']} sample(s) each; ASPR over {s['aspr_included']} problems with a correct path "
                     f"({s['aspr_excluded']} without one, excluded), K = {report.config.get('aspr_k')}")
    notes.append(f"Paper rows: {paper.CITATION}; transcribed from {paper.SOURCE}"
                 + ("" if paper.VERIFIED_AGAINST_PAPER else " (not yet checked against the PDF)") + ".")
    notes.append("Δ = pseudocode minus vanilla, in percentage points. Scored on hidden tests only.")
    return notes


def write_table(frame: pd.DataFrame, out_dir: str | Path, notes: Sequence[str] = (),
                stem: str = "table1") -> dict[str, Path]:
    """``<stem>.md`` and ``<stem>.csv`` in ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / f"{stem}.md", "csv": out / f"{stem}.csv"}
    paths["markdown"].write_text(to_markdown(frame, notes), encoding="utf-8")
    frame.to_csv(paths["csv"])
    return paths


def _percent(value: Any, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"
