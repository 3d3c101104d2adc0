"""The test case generator (TCG): method step 1 of O1-CODER.

A model reads a problem and one solution and writes 3 input/output test cases in a parseable block. It is trained
with SFT on the dataset's own tests in a fixed template, then DPO (chosen: true cases; rejected: the same inputs
with the outputs shuffled, or with ``tcg.dpo_pairs`` the SFT model's own wrong answers against the reference's
outputs: :mod:`o1coder.tcg.corrected`), and judged by the share of its tests the reference passes and by how many
mutated references its tests catch. Training imports torch, TRL and peft only when called.

    from o1coder.tcg import TCGConfig, sft_rows, dpo_rows, generate_tests, evaluate_tests, tcg_reward_tests
"""

from o1coder.tcg.cases import (
    Case,
    ParsedCases,
    parse_cases,
    parse_literal,
    render_case,
    render_cases,
)
from o1coder.tcg.config import TCGConfig, tcg_config
from o1coder.tcg.convert import (
    CallShape,
    call_shape,
    case_from_assertion,
    case_to_test,
    cases_from_tests,
)
from o1coder.tcg.data import (
    DataReport,
    dpo_rows,
    filter_by_length,
    sft_rows,
    shuffled_outputs,
    solution_variants,
    tokenize_dpo_row,
    tokenize_sft_row,
)
from o1coder.tcg.evaluate import (
    PAPER_VALIDITY,
    ProblemEval,
    TCGEvaluation,
    evaluate_tests,
)
from o1coder.tcg.generate import (
    GeneratedTests,
    generate_tests,
    keep_reference_passing,
    tcg_reward_tests,
)
from o1coder.tcg.mutants import Mutant, generate_mutants
from o1coder.tcg.template import build_prompt, prompt_text
from o1coder.tcg.train import TrainResult, load_trained, train_dpo, train_sft

__all__ = [
    "PAPER_VALIDITY", "CallShape", "Case", "DataReport", "GeneratedTests", "Mutant", "ParsedCases", "ProblemEval",
    "TCGConfig", "TCGEvaluation", "TrainResult", "build_prompt", "call_shape", "case_from_assertion", "case_to_test",
    "cases_from_tests", "dpo_rows", "evaluate_tests", "filter_by_length", "generate_mutants", "generate_tests",
    "keep_reference_passing", "load_trained", "parse_cases", "parse_literal", "prompt_text", "render_case",
    "render_cases", "sft_rows", "shuffled_outputs", "solution_variants", "tcg_config", "tcg_reward_tests",
    "tokenize_dpo_row", "tokenize_sft_row", "train_dpo", "train_sft",
]  # fmt: skip
