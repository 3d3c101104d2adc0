"""Evaluation (method step 8): pass@k, ASPR, the vanilla-vs-pseudocode harness (Table 1), budget-matched search.

    from o1coder.evaluation import pass_at_k, run_eval, compare_budgets
    pass_at_k(n=10, c=3, k=5)                                   # unbiased estimator (Chen et al. 2021)
    outcome = run_eval(load_recipe("tiny-cpu"), "bundled:eval", limit=3)   # what `o1coder eval` does
    outcome.table                                               # Table 1 layout, our row then the paper's

ASPR's definition is in :mod:`o1coder.evaluation.aspr`. Figures (plotly, the ``app`` extra) are in
:mod:`o1coder.evaluation.figures`.
"""

from o1coder.evaluation.aspr import AsprReport, AsprSummary, ProblemAspr, aspr, problem_aspr, summarize
from o1coder.evaluation.budget import BudgetComparison, BudgetPoint, compare_budgets
from o1coder.evaluation.config import BudgetConfig, EvalConfig, eval_config
from o1coder.evaluation.harness import EvalReport, Evaluator, ModeResult, hidden_tests, model_label
from o1coder.evaluation.passk import mean_pass_at_k, pass_at_k
from o1coder.evaluation.record import EvalOutcome, run_budget, run_eval
from o1coder.evaluation.sampling import Answer, Decoding, Sampler, answers_tree, decoding
from o1coder.evaluation.table import our_row, table1, to_markdown

__all__ = [
    "pass_at_k", "mean_pass_at_k",
    "aspr", "problem_aspr", "summarize", "AsprReport", "AsprSummary", "ProblemAspr",
    "EvalConfig", "BudgetConfig", "eval_config",
    "Sampler", "Decoding", "Answer", "decoding", "answers_tree",
    "Evaluator", "EvalReport", "ModeResult", "hidden_tests", "model_label",
    "run_eval", "EvalOutcome", "table1", "our_row", "to_markdown",
    "compare_budgets", "run_budget", "BudgetComparison", "BudgetPoint",
]
