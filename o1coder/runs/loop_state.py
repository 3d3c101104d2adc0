"""Where a self-play loop stands: a JSON file in the loop's folder, rewritten atomically after every stage.

The loop is a run in the run store (``kind = "loop"``: status, heartbeat, metrics such as ``loop/pass@1``); its
files live in ``<runs dir>/loop/<run id>/`` (checkpoints, datasets, PRMs). What the run store has no column for
(which stages are done, which search runs belong to which round, the current policy) is ``loop_state.json``
there. It is written to a temporary file and renamed over the old one, so a process killed at any instant leaves
either the previous state or the new one, never half a file; ``--resume`` then redoes only the stage that was
running (a search stage continues its own search run, which resumes problem by problem).

    {"version": 1, "run_id": "...", "rounds": 2, "policy": ".../round-0/policy",
     "done": ["baseline", "warm_start", "0/search", ...],   # finished stages, in order
     "runs": {"baseline": "<run id>", "0/search": "<run id>", "0/eval": "<run id>"},   # store runs per stage
     "outputs": {"0/prm": ".../round-0/prm", ...}, "metrics": {"0/eval": {"pass@1": 0.0}, ...}}
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from o1coder import paths

STATE_FILE = "loop_state.json"
STATE_VERSION = 1


def loop_dir(run_id: str, runs_dir: str | Path | None = None) -> Path:
    """``<runs dir>/loop/<run id>``: the loop's checkpoints, datasets, PRMs and state file."""
    return paths.runs_dir(runs_dir) / "loop" / run_id


@dataclass
class LoopState:
    """The loop's progress. Mutate it, then :meth:`save` (atomic)."""

    run_id: str
    folder: Path
    rounds: int
    policy: str | None = None  # the current policy checkpoint (None: the recipe's model)
    done: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated: float = 0.0

    @property
    def path(self) -> Path:
        return self.folder / STATE_FILE

    def is_done(self, stage: str) -> bool:
        return stage in self.done

    def finish(self, stage: str, *, policy: str | None = None, output: str | Path | None = None,
               metrics: dict[str, Any] | None = None) -> None:
        """Mark ``stage`` done (with what it produced) and save, in one atomic write."""
        if policy is not None:
            self.policy = str(policy)
        if output is not None:
            self.outputs[stage] = str(output)
        if metrics:
            self.metrics[stage] = dict(metrics)
        if stage not in self.done:
            self.done.append(stage)
        self.save()

    def record_run(self, stage: str, run_id: str) -> None:
        """Remember the store run a stage is filling, before it fills it (so a resume continues that run)."""
        self.runs[stage] = run_id
        self.save()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.updated = time.time()
        record = {"version": STATE_VERSION, "run_id": self.run_id, "rounds": self.rounds, "policy": self.policy,
                  "done": self.done, "runs": self.runs, "outputs": self.outputs, "metrics": self.metrics,
                  "updated": self.updated}
        handle, temporary = tempfile.mkstemp(prefix=".loop_state-", suffix=".json", dir=self.folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(record, file, indent=2, default=str)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, run_id: str, runs_dir: str | Path | None = None) -> LoopState:
        folder = loop_dir(run_id, runs_dir)
        path = folder / STATE_FILE
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"run {run_id} has no loop state at {path}: it is not a loop run, or its folder "
                                    "was moved (--runs-dir must be the one the loop ran in)") from None
        except ValueError as error:
            raise ValueError(f"{path} is not a readable loop state ({error})") from None
        if record.get("version") != STATE_VERSION:
            raise ValueError(f"{path} has loop state version {record.get('version')!r}; this o1coder reads "
                             f"version {STATE_VERSION}")
        return cls(run_id=record["run_id"], folder=folder, rounds=record["rounds"], policy=record.get("policy"),
                   done=list(record.get("done") or []), runs=dict(record.get("runs") or {}),
                   outputs=dict(record.get("outputs") or {}), metrics=dict(record.get("metrics") or {}),
                   updated=record.get("updated") or 0.0)
