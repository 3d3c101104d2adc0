"""The self-play loop (method step 7): search with the current policy, merge the data, train the PRM, update the
policy, evaluate, and again.

    run_id = run_loop(load_recipe("tiny-cpu"), rounds=2)      # what `o1coder loop --recipe tiny-cpu --rounds 2` does
    run_loop(resume=run_id)                                  # after a crash: continues at the unfinished stage

Stages, each finished before the next starts (``loop:`` section, :class:`o1coder.training.LoopConfig`):

- ``baseline``: evaluate the initial policy on the held-out problems (optional);
- ``warm_start``: SFT on stored reasoning traces (optional; the demo teaches the tiny model the step format),
  then ``warm_start/eval``: the warm-started policy on the held-out problems (policy version 1);
- per round t: ``t/search`` (the training problems, searched with the current policy into a run of the store),
  ``t/data`` (trees of rounds 0..t merged: D+, D_process and sibling pairs as JSON lines with lineage),
  ``t/prm`` (o1coder.prm on the merged trees; skipped with a note when there is nothing to learn: r = []),
  ``t/sft`` (SFT on D+: round 0, or every round with ``loop.sft_every_round``), ``t/rl`` (iterative DPO or
  GRPO with phi and alpha(t)), ``t/eval``.

The loop is a run of the store (``kind = "loop"``); its files are in ``<runs dir>/loop/<run id>/`` (``init/``,
``round-T/{policy,sft,prm,datasets}``) with ``loop_state.json`` (:mod:`o1coder.runs.loop_state`), rewritten
atomically after every stage. Metrics of the loop run: ``loop/pass@1`` at step = policy version (0: the initial
policy, 1: after the warm start when there is one, then one per round), with its 95% interval and counts, ASPR,
MCTS vs best-of-N at equal tokens, the share of D+ that search alone found and the PRM's AUC on held-out trees
(:mod:`o1coder.training.loop_metrics` names and defines each); ``loop/round``, ``loop/alpha``,
``loop/search_pass_rate``, ``loop/d_plus``, ``loop/d_process``, ``loop/pairs``, ``loop/prm_rows``,
``loop/prm_loss``, ``loop/sft_loss``, ``loop/rl_loss`` and ``loop/rl_reward`` (GRPO) at step = round t;
``loop/warm_start_loss`` at step 0.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from o1coder.runs.lineage import check_contamination
from o1coder.runs.loop_state import LoopState, loop_dir
from o1coder.trainkit import TrainResult
from o1coder.training import loop_metrics as M
from o1coder.training import rounds as R
from o1coder.training.config import loop_config, training_config
from o1coder.training.rewards import outcome_rule, reward_tests_for

log = logging.getLogger(__name__)

ALLOW_OPTION = "--allow-contamination (loop.allow_contamination: true)"

Progress = Callable[[str, str], None]
"""``progress(stage, message)``: a stage starts ("start"), ends ("done: ...") or is skipped ("skipped: why").
When the callable also has ``advance(stage, done, total, unit)`` (:class:`o1coder.console.StageConsole`), search
stages report each finished problem through it."""


def run_loop(recipe: dict[str, Any] | None = None, *, rounds: int | None = None, runs_dir: str | Path | None = None,
             resume: str | None = None, workers: int | None = None, progress: Progress | None = None,
             generator_factory: Callable[[str | None], Any] | None = None) -> str:
    """Run (or resume) a self-play loop; returns the loop's run id. See the module docstring for the stages.

    ``generator_factory(policy) -> Generator`` replaces the generator built from the recipe for searching,
    sampling and evaluating (``policy``: the checkpoint folder, None for the initial model), e.g. a
    ``ScriptedGenerator`` in tests; training always loads the checkpoint itself.
    """
    from o1coder.runs import readers
    from o1coder.runs.store import RunStore

    if not resume:
        if recipe is None:
            raise ValueError("a new loop needs a recipe (e.g. --recipe tiny-cpu)")
        if rounds is not None:
            recipe = {**recipe, "loop": {**(recipe.get("loop") or {}), "rounds": rounds}}
        R.check_recipe(recipe)  # a typo fails here, before a run is recorded
        check_held_out(loop_config(recipe))  # so does evaluating on problems the loop trains on
    elif recipe is not None or rounds is not None:
        raise ValueError(f"loop {resume} keeps its recorded recipe and rounds; resume it with only --resume")
    with RunStore(runs_dir) as store:
        if resume:
            run = readers.get_run(resume, runs_dir)
            if run.kind != "loop":
                raise ValueError(f"run {run.id} is a {run.kind} run, not a loop; `o1coder search --resume` "
                                 "continues searches")
            recipe, state = run.config, LoopState.load(run.id, runs_dir)
            store.resume_run(run.id)
        else:
            run_id = store.create_run(recipe, [], kind="loop")
            state = LoopState(run_id, loop_dir(run_id, runs_dir), loop_config(recipe).rounds)
            state.save()
        loop = None
        with store.guard(state.run_id):
            try:
                loop = _Loop(store, state, recipe, runs_dir, workers, progress or (lambda stage, message: None),
                             generator_factory)
                loop.run()
            finally:
                if loop is not None:
                    loop.close()
    return state.run_id


def check_held_out(config) -> None:
    """Before any work: the held-out problems must not be among those the loop will train on (the training
    problems, the warm start's traces); :mod:`o1coder.runs.lineage` checks the trained policy again before each
    evaluation."""
    specs = [R.round_spec(config.train_problems, t) for t in range(config.rounds)]
    trained = {p.id for p in R.resolve_many(specs, config.train_limit)}
    if config.warm_start:
        trained |= {p.id for p in R.resolve(config.warm_start, None)}
    overlap = sorted(trained & {p.id for p in R.resolve(config.eval_problems, config.eval_limit)})
    if overlap and not config.allow_contamination:
        named = ", ".join(overlap[:10]) + (" ..." if len(overlap) > 10 else "")
        raise ValueError(f"loop.eval_problems shares {len(overlap)} problem(s) with the problems the loop trains on "
                         f"(train_problems / warm_start): {named}. Evaluate on held-out problems (e.g. mbpp@test "
                         f"with mbpp@train+validation), or pass {ALLOW_OPTION}")
    if overlap:
        log.warning("the loop evaluates %d problems it trains on (allowed): %s", len(overlap), ", ".join(overlap[:10]))


class _Loop:
    def __init__(self, store, state: LoopState, recipe: dict[str, Any], runs_dir, workers, progress: Progress,
                 generator_factory=None):
        from o1coder.execution import Sandbox
        from o1coder.runs.driver import sandbox_settings
        from o1coder.search.config import search_config

        self.store, self.state, self.recipe, self.runs_dir, self.progress = store, state, recipe, runs_dir, progress
        self.config, self.training = loop_config(recipe), training_config(recipe)
        self.search = search_config(recipe)
        self._tests_for: tuple[str | None, Any] | None = None  # (TCG folder, the RL outcome's tests) once built
        limits, count = sandbox_settings(recipe, workers)
        self.sandbox = Sandbox(limits=limits, workers=count)
        self._generators = R.PolicyGenerators(recipe, generator_factory)
        self._train: dict[tuple[str, ...], list] = {}
        self._ray_joined: bool | None = None  # None: Ray not used yet; True: this loop started or joined it
        if self.config.threads:
            import torch

            torch.set_num_threads(self.config.threads)

    # -- the plan ------------------------------------------------------------------------------------------------
    def run(self) -> None:
        if self.config.baseline:
            self.stage("baseline", self.evaluate, "baseline", 0)
        if self.config.warm_start:
            self.stage("warm_start", self.warm_start)
            self.stage("warm_start/eval", self.evaluate, "warm_start/eval", 1)
        if self.config.tcg == "once":
            self.stage("tcg", self.train_tcg, "tcg", self.state.folder / "init" / "tcg")
        for t in range(self.state.rounds):
            self.store.log_metrics(self.state.run_id, t, {"loop/round": t, "loop/alpha": self.alpha(t)})
            if self.config.tcg == "each_round":
                self.stage(f"{t}/tcg", self.train_tcg, f"{t}/tcg", self.round_dir(t) / "tcg")
            self.stage(f"{t}/search", self.search_round, t)
            self.stage(f"{t}/data", self.merge_data, t)
            self.stage(f"{t}/prm", self.train_prm, t)
            if (t == 0 and self.config.sft_round0) or self.config.sft_every_round:
                self.stage(f"{t}/sft", self.sft_on_d_plus, t)
            self.stage(f"{t}/rl", self.update_policy, t)
            self.stage(f"{t}/eval", self.evaluate, f"{t}/eval", self.version_after(t))

    def stage(self, key: str, body: Callable[..., str], *args) -> None:
        """Run ``body(*args)`` unless the state says ``key`` is done; the body marks it done when it finishes."""
        if self.state.is_done(key):
            return
        log.info("loop %s: stage %s", self.state.run_id, key)
        self.progress(key, "start")
        message = body(*args)
        self.release()
        self.progress(key, message)

    def release(self) -> dict[str, int]:
        """Free what the stage that just ended held (its trainer, models, PRM scorer) before the next one loads its
        own: with a 7B PRM or a trainer left resident, the next stage's vLLM engine would not fit. The policy's
        generator stays (search and evaluation reuse it); training stages close it first (:meth:`train`)."""
        from o1coder.trainkit import release_memory

        return release_memory()

    def close(self) -> None:
        self._close_generator()
        self.sandbox.close()
        if self._ray_joined:
            import ray

            ray.shutdown()

    # -- stages --------------------------------------------------------------------------------------------------
    def train_tcg(self, key: str, folder: Path) -> str:
        """The test case generator (method step 1): SFT on the training problems' references and their tests, then
        DPO on the pairs ``tcg.dpo_pairs`` names (right outputs chosen over shuffled ones, or over the SFT model's own
        wrong ones), on the recipe's initial model with the ``tcg:`` section."""
        from o1coder.config import sampling_config
        from o1coder.tcg.config import tcg_config
        from o1coder.tcg.corrected import training_pairs
        from o1coder.tcg.data import sft_rows
        from o1coder.tcg.train import train_dpo as train_tcg_dpo
        from o1coder.tcg.train import train_sft as train_tcg_sft

        self._close_generator()
        t = 0 if key == "tcg" else int(key.split("/")[0])
        config, problems, folder = tcg_config(self.recipe), self.train_problems(t), self.fresh(folder)
        rows, report = sft_rows(problems, config, self.sandbox)
        if not rows:
            raise ValueError(f"loop.tcg: none of the {len(problems)} training problems gives TCG rows (each needs a "
                             "reference solution and tests it passes); use problems with references")
        sft = train_tcg_sft(rows, self.model_config(), config, folder / "sft", report)
        pairs, pair_report = training_pairs(problems, config, sandbox=self.sandbox, sft_dir=sft.output_dir,
                                            model_config=self.model_config(), params=sampling_config(self.recipe),
                                            require=False)
        result, note = sft, f"SFT on {len(rows)} rows, loss {_losses(sft)}"
        if pairs:
            result = train_tcg_dpo(pairs, self.model_config(), config, folder / "dpo", sft.output_dir, pair_report)
            note += f"; DPO on {len(pairs)} pairs, loss {_losses(result)}"
        self.log(t, {"loop/tcg_sft_loss": sft.metrics["last_loss"],
                        "loop/tcg_dpo_loss": result.metrics["last_loss"] if result is not sft else None})
        self.state.finish(key, output=result.output_dir, metrics={"sft_rows": len(rows), "dpo_rows": len(pairs),
                                                                  "output": str(result.output_dir)})
        return f"done: {note}"

    def search_round(self, t: int) -> str:
        key, recipe = f"{t}/search", self.guided_recipe(before_round=t)
        run_id = self.search_into(key, R.round_spec(self.config.train_problems, t), self.config.train_limit, recipe)
        rate = _run_info(run_id, self.runs_dir).pass_rate
        self.log(t, {"loop/search_pass_rate": rate})
        compared = self.compare_best_of_n(t, run_id) if self.config.compare_best_of_n else {}
        self.state.finish(key, metrics={"run": run_id, "pass_rate": rate, **compared})
        return f"done: run {run_id}, pass rate {_pct(rate)}" + _versus(compared)

    def merge_data(self, t: int) -> str:
        from o1coder.search.datasets import pair_rows, process_rows
        from o1coder.training.data import d_plus_rows

        folder = self.round_dir(t) / "datasets"
        searched, problems = self.searched(t), self.train_problems(t)
        d_plus = d_plus_rows(searched, problems)
        d_process = [{**row, "run_id": s.run_id, "round": s.round} for s in searched
                     for row in process_rows(s.trees, problems)]
        pairs = [{**row, "run_id": s.run_id, "round": s.round} for s in searched
                 for row in pair_rows(s.trees, problems)]
        counts = {name: R.write_jsonl(folder / f"{name}.jsonl", rows)
                  for name, rows in (("d_plus", d_plus), ("d_process", d_process), ("pairs", pairs))}
        self.log(t, {"loop/d_plus": counts["d_plus"], "loop/d_process": counts["d_process"]})
        self.state.finish(f"{t}/data", output=folder, metrics=counts)
        return "done: " + ", ".join(f"{k} {v}" for k, v in counts.items())

    def train_prm(self, t: int) -> str:
        key = f"{t}/prm"
        if not self.config.prm:
            self.state.finish(key, metrics={"skipped": "loop.prm is false"})
            return "skipped: loop.prm is false (r = [])"
        out = self.fresh(self.round_dir(t) / "prm")
        trees = [tree for s in self.searched(t) for tree in s.trees]
        runs = [s.run_id for s in self.searched(t)]
        info = {"loop": self.state.run_id, "round": t, "runs": runs}
        result = self.train("prm", key, lambda: TrainResult(*R.train_prm(trees, self.train_problems(t), self.recipe,
                                                                          out, info)),
                            runs=runs, runs_dir=self.runs_dir, info=info, problems=self.train_specs(t),
                            limit=self.config.train_limit, out=out)
        folder, metrics = result.output_dir, result.metrics
        self.log(t, {"loop/prm_rows": metrics.get("rows"), "loop/prm_loss": metrics.get("loss")})
        if folder is not None:
            metrics = {**metrics, **self.prm_auc(t, folder)}
        self.state.finish(key, output=folder, metrics=metrics)
        if folder is None:
            log.warning("round %d: no PRM trained (%s); process rewards are [] and phi ranks by R alone", t,
                        metrics["skipped"])
            return f"skipped: {metrics['skipped']} (r = [])"
        return (f"done: {metrics['rows']} rows, loss {_num(metrics.get('loss'))}"
                + (f", AUC on held-out trees {_num(metrics.get('loop/prm_auc'))}" if "loop/prm_auc" in metrics else ""))

    def sft_on_d_plus(self, t: int) -> str:
        from o1coder.training.data import in_chat_form
        from o1coder.training.sft import train_sft

        rows = R.read_jsonl(self.round_dir(t) / "datasets" / "d_plus.jsonl")
        if rows and self.search.chat:  # trained in the form it is searched with
            rows = in_chat_form(rows, self.train_problems(t))
        if not rows:
            self.state.finish(f"{t}/sft", metrics={"skipped": "D+ is empty"})
            return "skipped: D+ is empty (no searched path passes its reward tests)"
        out = self.fresh(self.round_dir(t) / "sft")
        result = self.train("sft", f"{t}/sft", lambda: train_sft(rows, self.state.policy, out, self.training,
                                                                 self.model_config()),
                            rows=self.round_dir(t) / "datasets" / "d_plus.jsonl", out=out)
        self.log(t, {"loop/sft_loss": result.metrics["last_loss"]})
        self.state.finish(f"{t}/sft", policy=result.output_dir, metrics=_summary(result))
        return f"done: {len(rows)} rows, loss {_losses(result)}"

    def update_policy(self, t: int) -> str:
        key, method, alpha = f"{t}/rl", self.training.method, self.alpha(t)
        if method == "none":
            self.state.finish(key, metrics={"skipped": "training.method is none"})
            return "skipped: training.method is none"
        prm = self.state.outputs.get(f"{t}/prm")
        out = self.fresh(self.round_dir(t) / "policy")
        if method == "grpo":
            from o1coder.training.grpo import train_grpo

            result = self.train(
                "grpo", key,
                lambda: train_grpo(self.train_problems(t), self.state.policy, out, self.training, self.model_config(),
                                   self.sandbox, self.outcome_tests(), alpha=alpha, outcome_alpha=self.outcome_alpha(),
                                   scorer=R.load_scorer(prm, self.recipe), chat=self.search.chat),
                problems=self.train_specs(t), limit=self.config.train_limit, alpha=alpha,
                outcome_alpha=self.outcome_alpha(), prm=prm, tcg=self.tcg_folder(), out=out)
            self.log(t, {"loop/rl_loss": result.metrics["last_loss"], "loop/rl_reward": result.metrics["mean_reward"]})
            self.state.finish(key, policy=result.output_dir, metrics=_summary(result))
            return f"done: GRPO {result.metrics['steps']} steps, mean phi {_num(result.metrics['mean_reward'])}"
        pairs = self.dpo_pairs(t, R.load_scorer(prm, self.recipe), alpha)  # the scorer is freed when this returns
        self.log(t, {"loop/pairs": len(pairs)})
        if not pairs:
            self.state.finish(key, metrics={"skipped": "no preference pair", "pairs": 0})
            return "skipped: no pair with different phi (the policy is unchanged this round)"
        from o1coder.training.dpo import train_dpo

        result = self.train("dpo", key, lambda: train_dpo(pairs, self.state.policy, out, self.training,
                                                          self.model_config()),
                            rows=self.round_dir(t) / "datasets" / "dpo_pairs.jsonl", out=out)
        self.log(t, {"loop/rl_loss": result.metrics["last_loss"]})
        self.state.finish(key, policy=result.output_dir, metrics={**_summary(result), "pairs": len(pairs)})
        return f"done: DPO on {len(pairs)} pairs, loss {_losses(result)}"

    def dpo_pairs(self, t: int, scorer, alpha: float) -> list[dict]:
        from o1coder.training.data import dpo_pairs

        generator = self.generator() if "samples" in self.training.pair_sources else None
        pairs = dpo_pairs(self.train_problems(t), self.training, self.sandbox, self.outcome_tests(), alpha=alpha,
                          outcome_alpha=self.outcome_alpha(), searched=self.searched(t), generator=generator,
                          scorer=scorer, round=t, chat=self.search.chat)
        R.write_jsonl(self.round_dir(t) / "datasets" / "dpo_pairs.jsonl", pairs)
        return pairs

    def warm_start(self) -> str:
        from o1coder.training.data import in_chat_form, trace_rows
        from o1coder.training.sft import train_sft

        traced = R.resolve(self.config.warm_start)
        rows = trace_rows(traced)
        if rows and self.search.chat:
            rows = in_chat_form(rows, traced)
        if not rows:
            raise ValueError(f"loop.warm_start {self.config.warm_start!r}: none of its problems has a stored trace")
        out = self.fresh(self.state.folder / "init" / "policy")
        rows_file = self.state.folder / "init" / "warm_start.jsonl"
        R.write_jsonl(rows_file, rows)
        # loop.warm_start_sft overrides training.sft for this stage only (here and in a launched job's recipe)
        training = dataclasses.replace(self.training, sft={**self.training.sft, **self.config.warm_start_sft})
        recipe = {**self.recipe, "training": {**(self.recipe.get("training") or {}), "sft": training.sft}}
        result = self.train("sft", "warm_start", lambda: train_sft(rows, self.state.policy, out, training,
                                                                   self.model_config()),
                            rows=rows_file, out=out, recipe=recipe)
        self.log(0, {"loop/warm_start_loss": result.metrics["last_loss"]})
        self.state.finish("warm_start", policy=result.output_dir, metrics=_summary(result))
        return f"done: {len(rows)} traces, loss {_losses(result)}"

    def evaluate(self, key: str, version: int) -> str:
        kind = self.config.evaluator
        if kind == "auto":
            kind = "evaluation" if R.evaluation_available() else "search"
        recipe = self.guided_recipe(before_round=version)  # after round t: that round's PRM
        spec, limit = self.config.eval_problems, self.config.eval_limit
        check_contamination(self.state.policy, [p.id for p in R.resolve(spec, limit)],
                            allow=self.config.allow_contamination, option=ALLOW_OPTION)
        trees = None  # the search run whose trees this evaluation leaves (ASPR, the next PRM's AUC)
        if kind == "traces" and self.config.eval_search_limit:  # trees first: the app has one to show at once
            trees = self.search_into(f"{key}/trees", spec, self.config.eval_search_limit, recipe)
        if kind == "evaluation":
            run_id, _ = R.evaluate_with_harness(recipe, spec, limit, self.generator(), self.sandbox, self.runs_dir,
                                                self.config.allow_contamination)
        elif kind == "traces":
            run_id = R.evaluate_with_traces(self.store, R.resolve(spec, limit), spec, limit, recipe, self.generator(),
                                            self.sandbox, run_id=self.state.runs.get(key),
                                            on_created=lambda rid: self.state.record_run(key, rid),
                                            progress=self.advancing(key, "problem"),
                                            max_tokens=self.config.eval_max_tokens)
        else:
            run_id = trees = self.search_into(key, spec, limit, recipe)
        passed, problems = M.search_run_counts(run_id, self.runs_dir)
        points = M.pass_at_1_points(passed, problems)
        if trees is not None and self.config.aspr_samples:
            points.update(M.aspr_points(R.resolve(spec, limit), trees, self.generator(), self.sandbox, recipe,
                                        self.config.aspr_samples, self.runs_dir))
        self.store.log_metrics(self.state.run_id, version, points)
        self.state.finish(key, metrics={"run": run_id, "pass@1": points["loop/pass@1"], "evaluator": kind,
                                        "version": version, "trees": trees, **points})
        return (f"done: Pass@1 {_pct(points['loop/pass@1'])} ({passed}/{problems}, 95% "
                f"{_pct(points['loop/pass@1_low'])}-{_pct(points['loop/pass@1_high'])})"
                + (f", ASPR {_pct(points['loop/aspr'])}" if "loop/aspr" in points else "") + f" ({kind}, run {run_id})")

    # -- measurements (o1coder.training.loop_metrics) -----------------------------------------------------------------
    def version_after(self, t: int) -> int:
        """The policy version round t produces: 0 is the initial policy, 1 the warm-started one (when there is a
        warm start), then one per round."""
        return t + 1 + (1 if self.config.warm_start else 0)

    def compare_best_of_n(self, t: int, run_id: str) -> dict[str, Any]:
        points, rows = M.equal_token_points(self.train_problems(t), run_id, self.generator(), self.sandbox,
                                            R.policy_recipe(self.recipe, self.state.policy), self.runs_dir)
        R.write_jsonl(self.round_dir(t) / "datasets" / "equal_tokens.jsonl", rows)
        self.log(t, points)
        return points

    def prm_auc(self, t: int, folder) -> dict[str, Any]:
        """The round's PRM on the trees of the latest evaluation by search (held-out problems); {} without one."""
        key = next((k for k in reversed(self.state.done) if k == "baseline" or k.endswith("eval")), None)
        run_id = (self.state.metrics.get(key) or {}).get("trees") if key else None
        if run_id is None:
            return {}
        points = M.prm_auc_points(folder, run_id, self.recipe, self.runs_dir)
        self.log(t, points)
        return points

    # -- helpers -------------------------------------------------------------------------------------------------
    def train(self, kind: str, key: str, here: Callable[[], TrainResult], **job) -> TrainResult:
        """Run a training stage: ``here()`` in this process, or with ``loop.accelerate_config`` the same library
        function in every process of an ``accelerate launch`` (:mod:`o1coder.scale.stages`). The policy's
        generator is closed first and the memory released: training needs what its engine held."""
        self._close_generator()
        self.release()
        if not self.config.accelerate_config:
            return here()
        from o1coder.scale.stages import run_stage

        job = {"recipe": self.recipe, "policy": self.state.policy, **job}
        report = run_stage(kind, job, self.state.folder / "jobs" / f"{key.replace('/', '-')}.json",
                           self.config.accelerate_config)
        return TrainResult(Path(report["output_dir"]) if report["output_dir"] else None, report["metrics"])

    def guided_recipe(self, before_round: int) -> dict[str, Any]:
        """The current policy's recipe in the prompt form it was trained on, with the PRM and TCG the loop has at
        this point (:mod:`o1coder.guidance`). A policy the loop trained reads zero-shot prompts, as its rows had
        (raw or chat: ``search.chat`` holds for training and search alike); the initial model keeps the recipe's
        few-shot setting. The PRM is the newest of a round before ``before_round`` (the PUCT prior with
        ``search.prior: prm``; before any PRM exists the prior is the policy's log-probabilities, which the search
        run records); the TCG is the newest."""
        from o1coder.guidance import needs_prm, set_guidance, with_guidance

        recipe = R.policy_recipe(self.recipe, self.state.policy)
        if self.state.policy is not None:  # a policy this loop trained: on zero-shot prompts (training.data.prompt_of)
            recipe["search"] = {**(recipe.get("search") or {}), "few_shot": False}
            recipe["evaluation"] = {**(recipe.get("evaluation") or {}), "few_shot": False}
        prm = None
        if needs_prm(self.search):
            prm = next((self.state.outputs[f"{r}/prm"] for r in range(before_round - 1, -1, -1)
                        if self.state.outputs.get(f"{r}/prm")), None)
            if prm is None:
                log.info("no PRM trained before round %d yet: its search uses the log-probability prior", before_round)
                recipe["search"] = {**(recipe.get("search") or {}), "prior": "logprob"}
        return with_guidance(set_guidance(recipe, prm=prm, tcg=self.tcg_folder()), require=False)

    def tcg_folder(self) -> str | None:
        """The newest TCG the loop trained (``loop.tcg``), else the one given (``--tcg``), else None."""
        keys = ["tcg"] + [f"{t}/tcg" for t in range(self.state.rounds)]
        trained = [self.state.outputs[k] for k in keys if self.state.outputs.get(k)]
        return trained[-1] if trained else (self.recipe.get("guidance") or {}).get("tcg")

    def outcome_tests(self):
        """``problem -> tests`` for the RL outcome R: the search's reward tests, the newest TCG's with
        ``reward_tests: generated`` (loaded once per TCG folder)."""
        from o1coder.guidance import load_tcg

        folder = self.tcg_folder()
        if self._tests_for is None or self._tests_for[0] != folder:
            generated = load_tcg(folder, self.recipe, self.sandbox) if folder and self.search.reward_tests == \
                "generated" else None
            self._tests_for = (folder, reward_tests_for(self.search, generated))
        return self._tests_for[1]

    def problems_done(self, key: str):
        """A search progress callback that advances the stage's bar (None when the caller draws no bars)."""
        advance = self.advancing(key, "problem")
        return None if advance is None else (lambda p: advance(p.done, p.planned))

    def advancing(self, key: str, unit: str):
        """``advance(done, total)`` for the stage's bar, or None when the caller draws no bars."""
        advance = getattr(self.progress, "advance", None)
        return None if advance is None else (lambda done, total: advance(key, done, total, unit))

    def search_into(self, key: str, spec: str, limit: int | None, recipe: dict[str, Any]) -> str:
        problems = R.resolve(spec, limit)
        if self.config.ray:  # on Ray actors, each building the policy itself; the store is written here
            if self._ray_joined is None:
                from o1coder.scale.cluster import connect

                self._ray_joined = connect(self.config.ray)
            return R.search_run_ray(self.store, problems, spec, limit, recipe, actors=self.config.ray_actors,
                                    run_id=self.state.runs.get(key),
                                    on_created=lambda rid: self.state.record_run(key, rid))
        return R.search_run(self.store, problems, spec, limit, recipe, self.generator(), self.sandbox,
                            run_id=self.state.runs.get(key), on_created=lambda rid: self.state.record_run(key, rid),
                            progress=self.problems_done(key))

    def searched(self, t: int):
        from o1coder.training.data import SearchedTrees

        first = 0 if self.config.merge == "all" else t
        return [SearchedTrees(self.state.runs[f"{r}/search"], R.finished_trees(self.state.runs[f"{r}/search"],
                                                                                self.runs_dir), r)
                for r in range(first, t + 1)]

    def train_specs(self, t: int) -> list[str]:
        """The training problem specs whose trees train round t: round t's, and the earlier rounds' with
        ``loop.merge: all`` (one spec when it has no ``{round}``)."""
        first = 0 if self.config.merge == "all" else t
        return list(dict.fromkeys(R.round_spec(self.config.train_problems, r) for r in range(first, t + 1)))

    def train_problems(self, t: int) -> list:
        """The problems of :meth:`train_specs` (resolved once per set of specs)."""
        specs = tuple(self.train_specs(t))
        if specs not in self._train:
            self._train[specs] = R.resolve_many(specs, self.config.train_limit)
        return self._train[specs]

    def generator(self):
        """The current policy as a Generator (loaded once per policy version)."""
        return self._generators.get(self.state.policy)

    def _close_generator(self) -> None:
        self._generators.close()

    def model_config(self):
        from o1coder.config import model_config

        return model_config(self.recipe)

    def alpha(self, t: int) -> float:
        from o1coder.training.phi import alpha_at

        c = self.training
        return alpha_at(t, schedule=c.alpha_schedule, start=c.alpha_start, end=c.alpha_end,
                        rounds=c.alpha_rounds or self.state.rounds)

    def outcome_alpha(self):
        """R's rule (:func:`o1coder.training.rewards.outcome_rule`): the formula's alpha, or tau_pass / tau_fail."""
        return outcome_rule(self.training, self.search)

    def round_dir(self, t: int) -> Path:
        return self.state.folder / f"round-{t}"

    def fresh(self, folder: Path) -> Path:
        """An empty output folder (a stage killed half-way left a partial one)."""
        shutil.rmtree(folder, ignore_errors=True)
        return folder

    def log(self, t: int, values: dict[str, float | None]) -> None:
        self.store.log_metrics(self.state.run_id, t, values)


def _run_info(run_id: str, runs_dir):
    from o1coder.runs import readers

    return readers.get_run(run_id, runs_dir)


def _summary(result) -> dict[str, Any]:
    m = result.metrics
    return {"output": str(result.output_dir), "steps": m.get("steps"), "first_loss": m.get("first_loss"),
            "last_loss": m.get("last_loss"), "mean_reward": m.get("mean_reward")}


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _losses(result) -> str:
    return f"{_num(result.metrics.get('first_loss'))} -> {_num(result.metrics.get('last_loss'))}"


def _versus(points: dict[str, Any]) -> str:
    if not points:
        return ""
    return (f"; MCTS {_pct(points['loop/mcts_solve_rate'])} ({_count(points['loop/mcts_tokens'])} tokens/problem) vs "
            f"best-of-N {_pct(points['loop/best_of_n_matched_solve_rate'])} at equal mean tokens "
            f"({_count(points['loop/best_of_n_matched_tokens'])}), "
            f"{_pct(points['loop/best_of_n_solve_rate'])} at the common cap "
            f"({_count(points['loop/best_of_n_tokens'])}), search-only share of D+ "
            f"{_pct(points['loop/search_only_share'])}")


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
