"""The arguments every stage's command shares: ``--recipe``, ``--set`` and ``--runs-dir``, written once.

    add_common_args(parser)                          # --recipe (default tiny-cpu), --set, --runs-dir
    add_common_args(parser, recipe_default=None, recipe_help="... not needed with --resume")
    recipe = recipe_from_args(args)                  # the preset or file, with every --set applied

Importing this module is cheap (argparse only): every stage's parser imports it when ``o1coder`` starts.
"""

from __future__ import annotations

import argparse
from typing import Any

RUNS_DIR_HELP = "runs directory (default: $O1CODER_RUNS_DIR, else data/runs)"
DEFAULT_RECIPE = "tiny-cpu"


def add_common_args(parser: argparse.ArgumentParser, *, recipe: bool = True, recipe_default: str | None = DEFAULT_RECIPE,
                    recipe_help: str | None = None, set_example: str = "search.rollouts=8",
                    runs_dir: bool = True, runs_dir_help: str = RUNS_DIR_HELP) -> None:
    """Add ``--recipe`` and ``--set`` (unless ``recipe`` is false) and ``--runs-dir`` (unless ``runs_dir`` is
    false) to ``parser``, with the same names, help and defaults in every verb."""
    if recipe:
        default_help = f" (default {recipe_default})" if recipe_default else ""
        parser.add_argument("--recipe", default=recipe_default,
                            help=recipe_help or f"preset name (e.g. tiny-cpu) or YAML file{default_help}")
        parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                            help=f"override a recipe value, e.g. --set {set_example} (repeatable)")
    if runs_dir:
        parser.add_argument("--runs-dir", help=runs_dir_help)


def recipe_from_args(args: argparse.Namespace, default: str | None = None) -> dict[str, Any]:
    """The recipe named by ``--recipe`` (``default`` when absent; an empty recipe when both are absent) with every
    ``--set`` override applied; an unknown preset or a malformed override is a ValueError saying which."""
    from o1coder.config import apply_overrides, load_recipe

    name = getattr(args, "recipe", None) or default
    return apply_overrides(load_recipe(name) if name else {}, getattr(args, "set", None) or [])
