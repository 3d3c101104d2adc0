"""The recipe sections of policy training (``training:``) and of the self-play loop (``loop:``).

The trainer settings are not copied field by field: ``training.sft``, ``training.dpo`` and ``training.grpo`` are
keyword arguments for TRL's own ``SFTConfig`` / ``DPOConfig`` / ``GRPOConfig``, applied on top of the defaults in
:func:`o1coder.training.policy.trainer_args`, so every TRL option works and TRL validates it (the same convention
as ``tcg.sft`` / ``tcg.dpo``). The fields here are what TRL does not know: LoRA, the phi aggregation, where DPO pairs
come from, and the loop's stages. The paper fixes almost none of these numbers; the defaults are our choices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from o1coder import validators as v
from o1coder.config import from_dict
from o1coder.training.phi import SCHEDULES

METHODS = ("dpo", "grpo", "none")
PAIR_SOURCES = ("trees", "samples", "references")
EVALUATORS = ("auto", "evaluation", "search", "traces")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


def _check_int(section: str, name: str, value: object, minimum: int, optional: bool = False) -> None:
    v.integer(section, name, value, minimum, optional=optional)


def _check_unit(section: str, name: str, value: object) -> float:
    return v.number(section, name, value, 0, 1)


def _check_bool(section: str, name: str, value: object) -> None:
    v.boolean(section, name, value)


@dataclass
class TrainingConfig:
    """How the policy is trained: SFT (initialisation), then iterative DPO or GRPO with rewards through phi."""

    method: str = field(
        default="dpo",
        metadata=_help("Policy update after SFT in each loop round: 'dpo' (iterative DPO on pairs ranked by phi), "
                       "'grpo' (GRPO with reward phi; the paper names PPO, which TRL no longer ships) or 'none'."),
    )  # fmt: skip
    lora: bool = field(
        default=False,
        metadata=_help("Train a LoRA adapter (peft) instead of all weights; it is merged into the saved "
                       "checkpoint, so every round's policy is a plain model folder any backend loads."),
    )  # fmt: skip
    lora_r: int = field(default=16, metadata=_help("LoRA rank."))
    lora_alpha: int = field(default=32, metadata=_help("LoRA scaling numerator."))
    lora_dropout: float = field(default=0.05, metadata=_help("Dropout on the LoRA input, in [0, 1)."))
    lora_target_modules: str | list[str] = field(
        default="all-linear", metadata=_help("'all-linear' or a list of module names such as [q_proj, v_proj].")
    )
    max_length: int = field(
        default=2048,
        metadata=_help("Most tokens of prompt + response; longer rows are dropped (and counted), never truncated "
                       "(a truncated trace would teach a step without its end or code)."),
    )  # fmt: skip
    seed: int = field(default=0, metadata=_help("Seeds the trainers, the fresh samples and the data order."))
    alpha_schedule: str = field(
        default="linear",
        metadata=_help("alpha(t), the outcome's weight in phi per round: 'constant', 'linear' or 'log' (see "
                       "o1coder.training.phi.alpha_at)."),
    )  # fmt: skip
    alpha_start: float = field(default=0.9, metadata=_help("alpha(0), in [0, 1]."))
    alpha_end: float = field(
        default=0.5, metadata=_help("alpha(t) at the schedule's last round (t = alpha_rounds - 1) and after, [0, 1].")
    )
    alpha_rounds: int | None = field(
        default=None,
        metadata=_help("Rounds over which alpha moves from start (round 0) to end (round alpha_rounds - 1) (null: "
                       "loop.rounds, so the loop's last round uses alpha_end)."),
    )  # fmt: skip
    gamma: float = field(default=0.9, metadata=_help("Discount of the j-th step's process reward (gamma^j), [0, 1]."))
    outcome_alpha: float | None = field(
        default=None,
        metadata=_help("outcome 'formula': R = outcome_alpha * compiles + (1 - outcome_alpha) * pass_rate of the final "
                       "code (null: search.alpha, so R equals the search's terminal reward)."),
    )  # fmt: skip
    outcome: str = field(
        default="formula",
        metadata=_help("How the RL outcome R is read from the final code's verdict: 'formula' (see outcome_alpha) or "
                       "'tau' (the paper's: tau_pass when every test passes, else tau_fail)."),
    )  # fmt: skip
    tau_pass: float = field(default=1.0, metadata=_help("outcome 'tau': R of code that passes every test."))
    tau_fail: float = field(
        default=0.0, metadata=_help("outcome 'tau': R of code that fails a test or has no code (the paper gives none).")
    )
    pair_sources: list[str] = field(
        default_factory=lambda: ["trees", "samples"],
        metadata=_help("Where DPO candidates come from: 'trees' (every searched root-to-code path), 'samples' "
                       "(fresh whole traces from the current policy) and 'references' (a problem's stored "
                       "reasoning trace, metadata['trace']: verified positives when the policy finds none)."),
    )  # fmt: skip
    samples_per_problem: int = field(default=4, metadata=_help("Fresh traces sampled per problem for DPO."))
    sample_max_tokens: int = field(default=1024, metadata=_help("Most tokens of one fresh trace."))
    sample_temperature: float = field(default=1.0, metadata=_help("Temperature of the fresh traces."))
    pairs_per_problem: int = field(
        default=2, metadata=_help("DPO pairs per problem: best vs worst by phi, second best vs second worst, ...")
    )
    min_margin: float = field(default=0.0, metadata=_help("Keep a pair only when phi(chosen) - phi(rejected) > it."))
    sft: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Keyword arguments for TRL's SFTConfig (learning_rate, num_train_epochs, max_steps, ...)."),
    )
    dpo: dict[str, Any] = field(
        default_factory=dict, metadata=_help("Keyword arguments for TRL's DPOConfig (beta, learning_rate, ...).")
    )
    grpo: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("Keyword arguments for TRL's GRPOConfig (num_generations, max_completion_length, beta, ...)."),
    )

    def __post_init__(self) -> None:
        s = "training"
        if self.method not in METHODS:
            raise ValueError(f"{s}.method must be one of {', '.join(map(repr, METHODS))}; got {self.method!r}")
        if self.alpha_schedule not in SCHEDULES:
            raise ValueError(f"{s}.alpha_schedule must be one of {', '.join(map(repr, SCHEDULES))}; "
                             f"got {self.alpha_schedule!r}")
        _check_bool(s, "lora", self.lora)
        for name, minimum in (("lora_r", 1), ("lora_alpha", 1), ("max_length", 16), ("seed", 0),
                              ("samples_per_problem", 1), ("sample_max_tokens", 1), ("pairs_per_problem", 1)):
            _check_int(s, name, getattr(self, name), minimum)
        _check_int(s, "alpha_rounds", self.alpha_rounds, 1, optional=True)
        for name in ("alpha_start", "alpha_end", "gamma", "min_margin"):
            setattr(self, name, _check_unit(s, name, getattr(self, name)))
        if self.outcome_alpha is not None:
            self.outcome_alpha = _check_unit(s, "outcome_alpha", self.outcome_alpha)
        if self.outcome not in ("formula", "tau"):
            raise ValueError(f"{s}.outcome must be 'formula' or 'tau'; got {self.outcome!r}")
        for name in ("tau_pass", "tau_fail"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ValueError(f"{s}.{name} must be a number; got {value!r}")
            setattr(self, name, float(value))
        if isinstance(self.lora_dropout, bool) or not isinstance(self.lora_dropout, (int, float)) \
                or not 0 <= self.lora_dropout < 1:
            raise ValueError(f"{s}.lora_dropout must be a number in [0, 1); got {self.lora_dropout!r}")
        if isinstance(self.sample_temperature, bool) or not isinstance(self.sample_temperature, (int, float)) \
                or self.sample_temperature < 0:
            raise ValueError(f"{s}.sample_temperature must be a number >= 0; got {self.sample_temperature!r}")
        targets = self.lora_target_modules
        if not (isinstance(targets, str) and targets) and not (
                isinstance(targets, list) and targets and all(isinstance(t, str) and t for t in targets)):
            raise ValueError(f"{s}.lora_target_modules must be 'all-linear' or a list of module names; "
                             f"got {targets!r}")
        if isinstance(self.pair_sources, str):
            self.pair_sources = [self.pair_sources]
        bad = [x for x in self.pair_sources if x not in PAIR_SOURCES] if isinstance(self.pair_sources, list) else [1]
        if bad or not self.pair_sources:
            raise ValueError(f"{s}.pair_sources must be a non-empty list among {', '.join(map(repr, PAIR_SOURCES))}"
                             f"; got {self.pair_sources!r}")
        for name in ("sft", "dpo", "grpo"):
            if not isinstance(getattr(self, name), Mapping):
                raise ValueError(f"{s}.{name} must be a mapping of TRL keyword arguments; got {getattr(self, name)!r}")
            setattr(self, name, dict(getattr(self, name)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TrainingConfig:
        return from_dict(cls, data, section="training")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class LoopConfig:
    """The self-play loop: which problems, which stages, how many rounds."""

    rounds: int = field(default=2, metadata=_help("Self-play rounds (search -> data -> PRM -> policy -> eval)."))
    train_problems: str = field(
        default="bundled:train",
        metadata=_help("Problem spec searched every round. '{round}' in it is replaced by the round number, so "
                       "every round searches new problems (e.g. 'synthetic:train,n=128,seed={round}'); with "
                       "merge 'all', round t trains on the problems of rounds 0..t."),
    )  # fmt: skip
    eval_problems: str = field(default="bundled:eval", metadata=_help("Held-out problem spec evaluated every round."))
    train_limit: int | None = field(default=None, metadata=_help("Only the first N training problems."))
    eval_limit: int | None = field(default=None, metadata=_help("Only the first N held-out problems."))
    warm_start: str | None = field(
        default=None,
        metadata=_help("A problem spec whose stored reasoning traces (metadata['trace']) the initial policy is "
                       "fine-tuned on before round 0 (the demo: 'bundled:train', so the tiny model writes "
                       "parseable steps). Null: start from model.name_or_path as it is."),
    )  # fmt: skip
    warm_start_sft: dict[str, Any] = field(
        default_factory=dict,
        metadata=_help("SFTConfig keyword arguments for the warm start only, over training.sft (the warm start "
                       "learns a format from hundreds of traces; SFT on D+ fine-tunes on a few dozen paths)."),
    )  # fmt: skip
    sft_round0: bool = field(
        default=True,
        metadata=_help("Round 0 fine-tunes the policy on D+ (the searched paths that pass) before DPO/GRPO: the "
                       "paper's policy initialisation. Skipped, with a note, when D+ is empty."),
    )  # fmt: skip
    sft_every_round: bool = field(
        default=False,
        metadata=_help("Every round, not only round 0, fine-tunes the policy on D+ (merged as loop.merge says) "
                       "before DPO/GRPO: expert iteration (STaR, ReST-EM) beside the paper's preference updates. "
                       "A small policy learns more from the solutions search found than from a few pairs."),
    )  # fmt: skip
    prm: bool = field(
        default=True,
        metadata=_help("Train a process reward model each round on the merged trees (o1coder.prm, the recipe's "
                       "prm: section); its scores are phi's r_j. False, or no code path to learn from: r = []."),
    )  # fmt: skip
    tcg: str = field(
        default="off",
        metadata=_help("Train the test case generator as a stage (o1coder.tcg on the training problems' reference "
                       "solutions, the recipe's tcg: section: SFT, then DPO): 'once' (before round 0), "
                       "'each_round' (before every round's search) or 'off'. Its tests reward the search and the "
                       "RL outcome; needs search.reward_tests: generated."),
    )  # fmt: skip
    merge: str = field(
        default="all",
        metadata=_help("Which rounds' trees train round t: 'all' (rounds 0..t merged, the paper's self-play) or "
                       "'latest' (round t only)."),
    )  # fmt: skip
    baseline: bool = field(
        default=True, metadata=_help("Evaluate the initial policy before round 0 (loop/pass@1 at step 0).")
    )
    evaluator: str = field(
        default="auto",
        metadata=_help("'evaluation' (o1coder.evaluation, pseudocode mode: Pass@1 of sampled trajectories on "
                       "hidden tests), 'search' (Pass@1 of the search's answer on hidden tests; writes trees), "
                       "'traces' (Pass@1 of one greedy whole trace per problem, many problems per generation "
                       "batch: affordable on hundreds of problems on a CPU) or 'auto' (evaluation when installed, "
                       "else search)."),
    )  # fmt: skip
    allow_contamination: bool = field(
        default=False,
        metadata=_help("Evaluate problems the policy's lineage trained on (o1coder.runs.lineage). False: the loop "
                       "refuses before it starts when eval_problems overlap train_problems or warm_start, and "
                       "before each evaluation, naming the problems."),
    )  # fmt: skip
    threads: int | None = field(
        default=None,
        metadata=_help("torch CPU threads for the loop's process (null: torch's default). On a small shared CPU "
                       "1 is often several times faster than 2."),
    )  # fmt: skip
    ray: str | None = field(
        default=None,
        metadata=_help("Run the search stages (and search evaluations) on Ray actors (the scale extra): 'local' "
                       "starts a Ray cluster on this machine, an address ('auto', 'ray://HOST:10001') joins one; "
                       "null searches in the loop's process. `o1coder loop --ray [ADDRESS]` sets it."),
    )  # fmt: skip
    ray_actors: int | None = field(
        default=None, metadata=_help("With ray: search actors (null: as many as the cluster holds).")
    )
    accelerate_config: str | None = field(
        default=None,
        metadata=_help("Run every training stage (warm start, SFT, PRM, DPO/GRPO) under `accelerate launch` with "
                       "this config (a YAML file or a preset such as ddp-8gpu): one process per GPU, the loop stays "
                       "one process. Null trains in the loop's process. `o1coder loop --accelerate-config` sets it."),
    )  # fmt: skip
    eval_search_limit: int | None = field(
        default=None,
        metadata=_help("With evaluator 'traces': also search the first N held-out problems at every evaluation, "
                       "for trees (ASPR, the PRM's AUC on held-out trees, the app's Search tree page). Null: no "
                       "trees."),
    )  # fmt: skip
    eval_max_tokens: int | None = field(
        default=None,
        metadata=_help("With evaluator 'traces': the most tokens of one whole trace (null: the search's step "
                       "tokens times its depth). An untrained policy never stops early, so this bounds the "
                       "baseline's cost."),
    )  # fmt: skip
    aspr_samples: int = field(
        default=0,
        metadata=_help("K of ASPR at every evaluation by search (loop/aspr with its interval): samples from the "
                       "last pseudocode state of each correct path. 0: no ASPR."),
    )  # fmt: skip
    compare_best_of_n: bool = field(
        default=False,
        metadata=_help("After each round's search, sample the same training problems by best-of-N at the tokens "
                       "MCTS spent on each (loop/mcts_solve_rate vs loop/best_of_n_solve_rate, "
                       "loop/search_only_share). Costs about one more search per round."),
    )  # fmt: skip

    def __post_init__(self) -> None:
        s = "loop"
        _check_int(s, "rounds", self.rounds, 1)
        for name in ("train_limit", "eval_limit", "threads", "eval_search_limit", "eval_max_tokens"):
            _check_int(s, name, getattr(self, name), 1, optional=True)
        for name in ("train_problems", "eval_problems"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ValueError(f"{s}.{name} must be a problem spec such as 'bundled:train'; "
                                 f"got {getattr(self, name)!r}")
        if self.warm_start is not None and (not isinstance(self.warm_start, str) or not self.warm_start.strip()):
            raise ValueError(f"{s}.warm_start must be a problem spec or null; got {self.warm_start!r}")
        _check_int(s, "aspr_samples", self.aspr_samples, 0)
        for name in ("sft_round0", "sft_every_round", "prm", "baseline", "allow_contamination", "compare_best_of_n"):
            _check_bool(s, name, getattr(self, name))
        if self.tcg is False:  # YAML reads a bare `off` as false
            self.tcg = "off"
        if self.tcg not in ("off", "once", "each_round"):
            raise ValueError(f"{s}.tcg must be 'off', 'once' or 'each_round'; got {self.tcg!r}")
        if not isinstance(self.warm_start_sft, dict):
            raise ValueError(f"{s}.warm_start_sft must be a mapping of SFTConfig arguments (e.g. {{max_steps: 200}}); "
                             f"got {self.warm_start_sft!r}")
        if self.merge not in ("all", "latest"):
            raise ValueError(f"{s}.merge must be 'all' or 'latest'; got {self.merge!r}")
        if self.evaluator not in EVALUATORS:
            raise ValueError(f"{s}.evaluator must be one of {', '.join(map(repr, EVALUATORS))}; "
                             f"got {self.evaluator!r}")
        _check_int(s, "ray_actors", self.ray_actors, 1, optional=True)
        for name in ("ray", "accelerate_config"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                v.fail(s, name, "a non-empty string or null", value)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> LoopConfig:
        return from_dict(cls, data, section="loop")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def training_config(recipe: Mapping[str, Any]) -> TrainingConfig:
    """The recipe's ``training:`` section, validated (defaults when absent)."""
    return TrainingConfig.from_dict(recipe.get("training"))


def loop_config(recipe: Mapping[str, Any]) -> LoopConfig:
    """The recipe's ``loop:`` section, validated (defaults when absent)."""
    return LoopConfig.from_dict(recipe.get("loop"))
