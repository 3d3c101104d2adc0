"""The reference numbers: Table 1 of the O1-CODER paper, kept as data so our table can print them beside ours.

Source: Zhang, Wu, Yang, Shu, Xiao, Kong, Sang. "o1-Coder: an o1 Replication for Coding". arXiv:2412.00154,
Table 1: "Pseudocode-based code generation results on the MBPP Benchmark. Pass@1 indicates the overall pass rate.
ASPR (Average Sampling Pass Rate) indicates the average success rate of reaching the correct reasoning path on the
last step." Values are percentages as printed, with the printed differences (pseudocode minus vanilla).

How they were obtained: this environment is offline, so the values were transcribed from a public reproduction of
the table (the paper review page at github.com/deep-diver/ai-paper-reviewer,
content/paper-reviews/2412.00154/index.md), not read from the PDF itself. Every printed difference equals the
difference of the printed values (a test checks it), which rules out most transcription slips, but the numbers have
NOT been checked against the PDF: check them before citing them (``VERIFIED_AGAINST_PAPER`` says so).
The paper does not state the sampling settings, the number of samples behind Pass@1, or K for ASPR.
"""

from __future__ import annotations

CITATION = ("Zhang et al., o1-Coder: an o1 Replication for Coding, arXiv:2412.00154, Table 1 "
            "(MBPP, vanilla vs pseudocode prompting)")
SOURCE = "github.com/deep-diver/ai-paper-reviewer: content/paper-reviews/2412.00154/index.md (a copy of Table 1)"
VERIFIED_AGAINST_PAPER = False
BENCHMARK = "MBPP"

# model -> metric -> (vanilla %, pseudocode %, printed difference in points)
TABLE1: dict[str, dict[str, tuple[float, float, float]]] = {
    "Qwen2.5-1.5B": {"pass@1": (55.8, 46.7, -9.1), "aspr": (49.9, 54.5, +4.6)},
    "Qwen2.5-3B": {"pass@1": (56.3, 51.3, -5.0), "aspr": (52.0, 70.6, +18.6)},
    "Qwen2.5-7B": {"pass@1": (59.8, 50.1, -9.7), "aspr": (66.4, 78.1, +11.7)},
    "Qwen2.5-Coder-7B": {"pass@1": (57.7, 58.2, +0.5), "aspr": (49.3, 74.9, +25.6)},
}


def paper_rows() -> list[dict]:
    """One Table 1 row per model, as fractions (like our numbers), differences computed from the values."""
    rows = []
    for model, metrics in TABLE1.items():
        row: dict = {"model": f"{model} (paper)", "source": "paper"}
        for metric, (vanilla, pseudocode, _) in metrics.items():
            row[f"vanilla_{metric}"] = vanilla / 100
            row[f"pseudocode_{metric}"] = pseudocode / 100
            row[f"delta_{metric}"] = round(pseudocode - vanilla, 1) / 100
        rows.append(row)
    return rows
