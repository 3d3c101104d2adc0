"""Typed pseudocode reasoning: the step format, its parser, the prompts and the few-shot examples.

A step is one of three actions (structure, refine, code), written in one text format (see
:mod:`o1coder.reasoning.steps`) that prompts, the search, SFT targets and PRM labels share. Nothing here imports a
model library.
"""

from o1coder.reasoning.extract import ExtractedProgram, extract_program
from o1coder.reasoning.fewshot import DEFAULT_EXAMPLES, EXAMPLES, FewShotExample
from o1coder.reasoning.prompts import (
    PSEUDOCODE_INSTRUCTION,
    STEP_STOP_STRINGS,
    TRACE_STOP_STRINGS,
    VANILLA_INSTRUCTION,
    VANILLA_STOP_STRINGS,
    format_question,
    pseudocode_input,
    pseudocode_messages,
    pseudocode_prompt,
    vanilla_input,
    vanilla_messages,
    vanilla_prompt,
)
from o1coder.reasoning.steps import (
    END_OF_STEP,
    STEP_SEPARATOR,
    Action,
    ParseResult,
    Step,
    parse,
    parse_steps,
    render,
    render_trace,
    step_end_offsets,
)

__all__ = [
    "Action", "Step", "ParseResult", "END_OF_STEP", "STEP_SEPARATOR",
    "render", "parse", "parse_steps", "render_trace", "step_end_offsets",
    "ExtractedProgram", "extract_program",
    "FewShotExample", "EXAMPLES", "DEFAULT_EXAMPLES",
    "PSEUDOCODE_INSTRUCTION", "VANILLA_INSTRUCTION",
    "STEP_STOP_STRINGS", "TRACE_STOP_STRINGS", "VANILLA_STOP_STRINGS",
    "format_question", "pseudocode_messages", "pseudocode_prompt", "vanilla_messages", "vanilla_prompt",
    "pseudocode_input", "vanilla_input",
]
