"""Which problems a policy was trained on, read back through its checkpoints, and the contamination check.

Every policy checkpoint the project writes (``o1coder sft`` / ``rl``, the loop's stages) has a ``training.json``
that names the policy it started from (``policy``) and the problems its rows came from (``trained_on``). Following
``policy`` back to a model that is not ours gives the policy's lineage: every problem any of its ancestors trained
on. Scoring a policy on one of those problems measures memory, not reasoning, so ``o1coder eval`` and the loop refuse
it, naming the problems, unless asked to allow it (``--allow-contamination``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

TRAINING_FILE = "training.json"  # o1coder.training.policy.METRICS_FILE
MAX_NAMED = 10


def trained_on(policy: str | Path | None) -> dict[str, str]:
    """``{problem id: checkpoint folder that trained on it}`` over the policy's whole lineage ({} for a model
    without o1coder training records, e.g. a hub id)."""
    found: dict[str, str] = {}
    seen: set[str] = set()
    current = None if policy is None else str(policy)
    while current and current not in seen and (Path(current) / TRAINING_FILE).is_file():
        seen.add(current)
        record = json.loads((Path(current) / TRAINING_FILE).read_text())
        for problem_id in record.get("trained_on") or []:
            found.setdefault(problem_id, current)
        parent = record.get("policy")
        current = str(parent) if parent else None
    return found


def contaminated(policy: str | Path | None, problem_ids: Iterable[str]) -> dict[str, str]:
    """The problems of ``problem_ids`` that the policy's lineage trained on, with the checkpoint that did."""
    lineage = trained_on(policy)
    return {pid: lineage[pid] for pid in problem_ids if pid in lineage}


def check_contamination(policy: str | Path | None, problem_ids: Iterable[str], *, allow: bool = False,
                        option: str = "--allow-contamination") -> dict[str, str]:
    """Raise a ValueError naming the problems the policy trained on (unless ``allow``: then a warning)."""
    found = contaminated(policy, problem_ids)
    if found:
        names = ", ".join(sorted(found)[:MAX_NAMED]) + (f" and {len(found) - MAX_NAMED} more"
                                                         if len(found) > MAX_NAMED else "")
        where = min(found.values())
        message = (f"{len(found)} problem(s) to score were in the training data of policy {policy}'s lineage "
                   f"(e.g. checkpoint {where}): {names}")
        if not allow:
            raise ValueError(f"{message}. Score held-out problems (e.g. mbpp@test when training on mbpp@train), or "
                             f"pass {option} to score them anyway")
        log.warning("%s; scored anyway (%s)", message, option)
    return found
