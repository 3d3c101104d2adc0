"""The TCG prompt: the paper's template (instruction, problem, code, test part) in our own words.

O1-CODER trains its test case generator on (problem, one solution) -> 3 test cases in a fixed template with an
instruction, the problem, a code part and a test part. The answer is a block of cases in the format of
:mod:`o1coder.tcg.cases`; the instruction says how inputs and outputs are written for the problem's call shape,
so one template serves function and stdin/stdout problems. With ``chat`` the text is one user message (instruct
models); without, it is plain text ending at the test part, which the answer continues.
"""

from __future__ import annotations

from o1coder.models.base import Prompt
from o1coder.problems import Problem
from o1coder.tcg.convert import CallShape, call_shape

NO_CODE = "(no solution is given: write the cases from the problem statement)"

_INSTRUCTION = (
    "Write {n} test cases for the problem below. The code is a correct solution: each test case is an input "
    "for it and exactly the output it gives for that input."
)
_FORMAT = {
    "function": "Write each input as a Python list of the arguments passed to `{fn}` and each output as the "
                "Python value it returns.",
    "method": "Write each input as a Python list of the arguments passed to `{cls}().{fn}` and each output as the "
              "Python value it returns.",
    "stdio": "Write each input as the text the program reads from standard input and each output as the text it "
             "prints.",
}  # fmt: skip
_TAGS = "Put each input between <input> and </input> and its output right after it, between <output> and </output>."


def instruction(shape: CallShape, n_cases: int) -> str:
    """The instruction part: how many cases and how they are written for this shape."""
    how = _FORMAT[shape.kind].format(fn=shape.fn, cls=shape.class_name)
    return f"{_INSTRUCTION.format(n=n_cases)} {how} {_TAGS}"


def prompt_text(problem: Problem, code: str | None, n_cases: int = 3) -> str:
    """The full template text for ``problem`` and one solution ``code`` (None: no code part content)."""
    shape = call_shape(problem)
    code_part = f"```python\n{code.strip()}\n```" if code and code.strip() else NO_CODE
    return (
        f"### Instruction\n{instruction(shape, n_cases)}\n\n"
        f"### Problem\n{problem.prompt.strip()}\n\n"
        f"### Code\n{code_part}\n\n"
        f"### Test cases\n"
    )


def build_prompt(problem: Problem, code: str | None, n_cases: int = 3, chat: bool = True) -> Prompt:
    """The prompt in TRL's format: a one-message chat (``chat``) or the plain text."""
    text = prompt_text(problem, code, n_cases)
    return [{"role": "user", "content": text}] if chat else text


def build_completion(answer: str, chat: bool = True) -> str | list[dict[str, str]]:
    """The answer in TRL's format: an assistant message (``chat``) or the plain text (TRL appends EOS)."""
    return [{"role": "assistant", "content": answer}] if chat else answer
