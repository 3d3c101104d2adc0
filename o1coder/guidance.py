"""A trained PRM and TCG guiding every search: given once, checked before the run, recorded, loaded where it runs.

    recipe = with_guidance(recipe, prm="runs/prm/pointwise-...", tcg="runs/tcg/dpo")   # checks, hashes, records
    aids = load_guidance(recipe, sandbox)                                                # in the process that searches
    search(problem, generator, sandbox, config, **aids.search_kwargs())

Why the recipe carries them: a search's recipe already travels to every place that searches (``o1coder search``,
its ``--ray`` actors, ``o1coder eval``, the loop, a resumed run), so a ``guidance:`` section in it reaches them all
without another argument on each path, and the run store records it with the run's config. The section holds each
folder's path and the SHA-256 of its files, so a run says which PRM and TCG it used, and a resumed run refuses a
folder whose content changed since.

What uses them (:func:`needs_prm`, :func:`reads_prm`, :func:`needs_tcg`): the PRM is the PUCT prior
(``search.selection: puct`` with ``search.prior: prm``) and beam search's value; the TCG writes the reward tests
(``search.reward_tests: generated``) and the RL outcome's tests. A search that needs one and lacks it, or is given
one it would ignore, is an error before the run starts, naming the option (never a silent fallback).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PRM_INFO = "prm.json"  # written by `o1coder prm train` (o1coder.prm.modeling.INFO_FILE)
TCG_FILES = ("adapter_config.json", "config.json")  # a `o1coder tcg sft|dpo` adapter, or a merged model


def needs_prm(search) -> bool:
    """Whether a search with this :class:`~o1coder.search.SearchConfig` cannot run without a PRM (the PUCT prior)."""
    return search.algorithm == "mcts" and search.selection == "puct" and search.prior == "prm"


def reads_prm(search) -> bool:
    """Whether it reads a PRM when given one: the PUCT prior, or beam search's value (else the log-probability)."""
    return needs_prm(search) or search.algorithm == "beam"


def needs_tcg(search) -> bool:
    return search.reward_tests == "generated"


def folder_hash(folder: str | Path) -> str:
    """SHA-256 over a folder's files (relative path and bytes, in sorted order): its content, not its timestamps."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def set_guidance(recipe: Mapping[str, Any], prm: str | Path | None = None,
                 tcg: str | Path | None = None) -> dict[str, Any]:
    """The recipe with ``guidance.prm`` / ``guidance.tcg`` set to the folders given (what ``--prm`` / ``--tcg``
    do); unchecked until :func:`with_guidance`."""
    section = dict(recipe.get("guidance") or {})
    for kind, folder in (("prm", prm), ("tcg", tcg)):
        if folder is not None:
            section[kind] = str(folder)
            section.pop(f"{kind}_sha256", None)
    result = dict(recipe)
    if section:
        result["guidance"] = section
    return result


def with_guidance(recipe: Mapping[str, Any], prm: str | Path | None = None, tcg: str | Path | None = None, *,
                  require: bool = True) -> dict[str, Any]:
    """The recipe with ``guidance: {prm, prm_sha256, tcg, tcg_sha256}`` for the given folders (or those the recipe
    already names), after checking that each folder is a trained PRM / TCG and that the search uses exactly the
    ones given. ``require=False`` skips the "needed but missing" check (the loop trains its own PRM and TCG)."""
    from o1coder.search.config import search_config

    section = dict(recipe.get("guidance") or {})
    unknown = sorted(set(section) - {"prm", "tcg", "prm_sha256", "tcg_sha256"})
    if unknown:
        raise ValueError(f"unknown key(s) in section 'guidance': {', '.join(unknown)}; known: prm, tcg (folders; "
                         "the *_sha256 keys are recorded by o1coder)")
    search = search_config(recipe)
    chosen = {"prm": prm if prm is not None else section.get("prm"),
              "tcg": tcg if tcg is not None else section.get("tcg")}
    _check_use("prm", chosen["prm"], needs_prm(search) and require, reads_prm(search),
               "search.selection=puct with search.prior=prm (the PUCT prior), or search.algorithm=beam (its value)")
    _check_use("tcg", chosen["tcg"], needs_tcg(search) and require, needs_tcg(search),
               "search.reward_tests=generated")
    out: dict[str, Any] = {}
    for kind, folder in chosen.items():
        if folder is None:
            continue
        folder = str(Path(folder).expanduser())
        _check_folder(kind, folder)
        digest = folder_hash(folder)
        recorded = section.get(f"{kind}_sha256")
        if recorded and kind in section and str(Path(section[kind]).expanduser()) == folder and recorded != digest:
            raise ValueError(f"--{kind} {folder}: its files changed since the run recorded it (sha256 {recorded[:12]} "
                             f"-> {digest[:12]}); start a new run, or restore the folder")
        out[kind], out[f"{kind}_sha256"] = folder, digest
    result = {key: value for key, value in recipe.items() if key != "guidance"}
    if out:
        result["guidance"] = out
    return result


def _check_use(kind: str, folder, needed: bool, read: bool, setting: str) -> None:
    what = "a process reward model" if kind == "prm" else "a test case generator"
    if folder is None and needed:
        trained_by = "`o1coder prm train`" if kind == "prm" else "`o1coder tcg sft` or `o1coder tcg dpo`"
        raise ValueError(f"{setting.split(' (')[0]} needs {what}: give --{kind} DIR (a {trained_by} output folder)")
    if folder is not None and not read:
        raise ValueError(f"--{kind} {folder} is given but this search would not use it: {what} is read with "
                         f"{setting}; set that (--set ...) or drop --{kind}")


def _check_folder(kind: str, folder: str) -> None:
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"--{kind} {folder}: no such folder")
    if kind == "prm":
        info = path / PRM_INFO
        if not info.is_file():
            raise ValueError(f"--prm {folder} is not a trained PRM folder (no {PRM_INFO}); train one with "
                             "`o1coder prm train --run RUN`")
        mode = json.loads(info.read_text()).get("mode")
        if mode not in ("pointwise", "pairwise"):
            raise ValueError(f"--prm {folder}: {PRM_INFO} says mode {mode!r}; expected 'pointwise' or 'pairwise'")
    elif not any((path / name).is_file() for name in TCG_FILES):
        raise ValueError(f"--tcg {folder} is not a trained TCG folder (no adapter_config.json or config.json); "
                         "train one with `o1coder tcg sft` / `o1coder tcg dpo`")


@dataclass
class Guidance:
    """The loaded PRM scorer and TCG reward-tests function of a recipe (None where it names none)."""

    prior_fn: Any = None
    reward_tests_fn: Callable | None = None
    record: Mapping[str, Any] | None = None

    def search_kwargs(self) -> dict[str, Any]:
        return {"prior_fn": self.prior_fn, "reward_tests_fn": self.reward_tests_fn}


def load_guidance(recipe: Mapping[str, Any], sandbox=None) -> Guidance:
    """Load what the recipe's ``guidance`` section names (checked again: the folder may have changed since)."""
    section = recipe.get("guidance") or {}
    if not section:
        return Guidance()
    with_guidance(recipe, require=False)  # same paths: a changed folder raises here, before any model loads
    prior_fn = load_prm(section["prm"], recipe) if section.get("prm") else None
    reward_tests_fn = load_tcg(section["tcg"], recipe, sandbox) if section.get("tcg") else None
    return Guidance(prior_fn, reward_tests_fn, dict(section))


def load_prm(folder: str | Path, recipe: Mapping[str, Any]):
    from o1coder.prm import PRMScorer, prm_config

    scorer = PRMScorer.load(folder, batch_size=prm_config(recipe).score_batch_size)
    log.info("PRM %s (%s) loaded", folder, scorer.mode)
    return scorer


def load_tcg(folder: str | Path, recipe: Mapping[str, Any], sandbox=None):
    """The TCG folder as a search ``reward_tests_fn``: its tests for a problem, filtered by the problem's reference
    when there is one (:func:`o1coder.tcg.tcg_reward_tests`). The generation settings are those it was trained with
    (its metrics.json), else the recipe's ``tcg`` section; the model is the adapter's base model plus the adapter."""
    from o1coder.config import ModelConfig, from_dict, model_config
    from o1coder.models import build_generator
    from o1coder.tcg.config import TCGConfig, tcg_config
    from o1coder.tcg.generate import tcg_reward_tests

    path = Path(folder)
    metrics = path / "metrics.json"
    trained = json.loads(metrics.read_text()).get("tcg") if metrics.is_file() else None
    config = from_dict(TCGConfig, trained, section="tcg") if trained else tcg_config(recipe)
    adapter = path / "adapter_config.json"
    if adapter.is_file():
        name = json.loads(adapter.read_text()).get("base_model_name_or_path") or model_config(recipe).name_or_path
        model = ModelConfig(backend="transformers", name_or_path=name, lora_path=str(path))
    else:
        model = ModelConfig(backend="transformers", name_or_path=str(path))
    generator = build_generator(model)  # transformers in the searching process: a few answers per problem, once
    log.info("TCG %s loaded on %s", folder, model.name_or_path)
    return tcg_reward_tests(generator, sandbox, config=config)
