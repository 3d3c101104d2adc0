"""Few-shot examples for the prompts: short, complete reasoning traces written for this project.

They show a model the step format by example: one function problem, one stdin/stdout problem, and a longer one
with two refine steps. Their problems are not among the bundled problems, so showing them never leaks an answer.
Each example carries tests, and a test runs every example's code against them.
"""

from __future__ import annotations

from dataclasses import dataclass

from o1coder.problems import Problem, TestCase
from o1coder.reasoning.steps import Action, Step


@dataclass(frozen=True)
class FewShotExample:
    """A problem and a complete trace for it (structure, refine..., code)."""

    problem: Problem
    steps: tuple[Step, ...]

    def __post_init__(self):
        actions = [s.action for s in self.steps]
        if not actions or actions[0] is not Action.STRUCTURE or actions[-1] is not Action.CODE:
            raise ValueError(f"few-shot example {self.problem.id}: a trace starts with a structure step and ends "
                             f"with a code step, got actions {[int(a) for a in actions]}")


def _problem(pid, prompt, entry_point, tests, code):
    return Problem(id=f"fewshot/{pid}", prompt=prompt, entry_point=entry_point, tests=tests,
                   public_tests=tests[:1], reference=code)


_SUM_ODD_SQUARES_CODE = '''\
def sum_odd_squares(nums):
    total = 0
    for x in nums:
        if x % 2 == 1:
            total += x * x
    return total'''

SUM_ODD_SQUARES = FewShotExample(
    _problem(
        "sum_odd_squares",
        "Return the sum of the squares of the odd numbers in a list of integers.",
        "sum_odd_squares",
        [TestCase.assertion("assert sum_odd_squares([1, 2, 3]) == 10"),
         TestCase.assertion("assert sum_odd_squares([]) == 0"),
         TestCase.assertion("assert sum_odd_squares([-3, 4]) == 9")],
        _SUM_ODD_SQUARES_CODE,
    ),
    (
        Step(Action.STRUCTURE, "Outline the function",
             "One function takes the list and returns a number: keep the odd values, square them, add them up.",
             "function sum_odd_squares(nums: list of int) -> int\n"
             "    odd_values <- the odd numbers in nums\n"
             "    return the sum of the squares of odd_values"),
        Step(Action.REFINE, "Spell out the loop",
             "An accumulator starting at 0 also covers the empty list; in Python x % 2 == 1 holds for negative odd "
             "numbers too.",
             "function sum_odd_squares(nums):\n"
             "    total <- 0\n"
             "    for x in nums:\n"
             "        if x mod 2 == 1:\n"
             "            total <- total + x * x\n"
             "    return total"),
        Step(Action.CODE, "Write the Python function", "A direct translation of the refined pseudocode.",
             code=_SUM_ODD_SQUARES_CODE),
    ),
)

_REPEATED_WORDS_CODE = '''\
import sys


def find_repeated(words):
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    seen = set()
    result = []
    for w in words:
        if counts[w] > 1 and w not in seen:
            result.append(w)
            seen.add(w)
    return result


def main():
    tokens = sys.stdin.read().split()
    n = int(tokens[0])
    repeated = find_repeated(tokens[1:1 + n])
    print("\\n".join(repeated) if repeated else "NONE")


main()'''

REPEATED_WORDS = FewShotExample(
    _problem(
        "repeated_words",
        "The first line of the input holds an integer n; each of the next n lines holds one word. Print every word "
        "that appears more than once, in the order of its first appearance, one per line. If no word repeats, "
        "print NONE.",
        None,
        [TestCase.stdio("5\napple\npear\napple\nfig\npear\n", "apple\npear\n"),
         TestCase.stdio("2\nsun\nmoon\n", "NONE\n"),
         TestCase.stdio("4\nb\na\na\nb\n", "b\na\n")],
        _REPEATED_WORDS_CODE,
    ),
    (
        Step(Action.STRUCTURE, "Outline the program",
             "Read the words, find the repeated ones with a helper, print them.",
             "program:\n"
             "    words <- read n, then n words\n"
             "    repeated <- find_repeated(words)\n"
             "    print each word of repeated on its own line, or NONE when it is empty\n"
             "\n"
             "function find_repeated(words: list of str) -> list of str"),
        Step(Action.REFINE, "Count first, then report in input order",
             "Counting every word before reporting keeps the output in order of first appearance.",
             "function find_repeated(words):\n"
             "    counts <- map from word to number of occurrences\n"
             "    seen <- empty set; result <- empty list\n"
             "    for w in words:\n"
             "        if counts[w] > 1 and w not in seen:\n"
             "            append w to result; add w to seen\n"
             "    return result\n"
             "\n"
             "program:\n"
             "    tokens <- all whitespace-separated tokens of stdin\n"
             "    n <- int(tokens[0]); words <- tokens[1 .. n]"),
        Step(Action.CODE, "Write the program", "The helper and a main function that reads stdin.",
             code=_REPEATED_WORDS_CODE),
    ),
)

_LONGEST_UNIQUE_RUN_CODE = '''\
def longest_unique_run(s):
    last_seen = {}
    start = 0
    best = 0
    for i, c in enumerate(s):
        if c in last_seen:
            start = max(start, last_seen[c] + 1)
        last_seen[c] = i
        best = max(best, i - start + 1)
    return best'''

LONGEST_UNIQUE_RUN = FewShotExample(
    _problem(
        "longest_unique_run",
        "Return the length of the longest stretch of consecutive characters in a string in which no character "
        "occurs twice.",
        "longest_unique_run",
        [TestCase.assertion("assert longest_unique_run('abcabcbb') == 3"),
         TestCase.assertion("assert longest_unique_run('') == 0"),
         TestCase.assertion("assert longest_unique_run('abba') == 2")],
        _LONGEST_UNIQUE_RUN_CODE,
    ),
    (
        Step(Action.STRUCTURE, "Slide a window",
             "Keep a window of the string with no repeated character and remember the widest one.",
             "function longest_unique_run(s: str) -> int\n"
             "    move a window [start, i] along s so it never holds a repeated character\n"
             "    return the largest window width seen"),
        Step(Action.REFINE, "Remember where each character was last seen",
             "A map from character to its last index tells how far the window start must jump.",
             "function longest_unique_run(s):\n"
             "    last_seen <- empty map; start <- 0; best <- 0\n"
             "    for i, c in s:\n"
             "        if c in last_seen: start <- last_seen[c] + 1\n"
             "        last_seen[c] <- i\n"
             "        best <- max(best, i - start + 1)\n"
             "    return best"),
        Step(Action.REFINE, "Never move the start backwards",
             "In 'abba' the second a was last seen before the window start, so the start must take the larger of "
             "its old value and last_seen[c] + 1. The empty string gives 0 because the loop never runs.",
             "function longest_unique_run(s):\n"
             "    last_seen <- empty map; start <- 0; best <- 0\n"
             "    for i, c in s:\n"
             "        if c in last_seen: start <- max(start, last_seen[c] + 1)\n"
             "        last_seen[c] <- i\n"
             "        best <- max(best, i - start + 1)\n"
             "    return best"),
        Step(Action.CODE, "Write the Python function", "", code=_LONGEST_UNIQUE_RUN_CODE),
    ),
)

EXAMPLES: tuple[FewShotExample, ...] = (SUM_ODD_SQUARES, REPEATED_WORDS, LONGEST_UNIQUE_RUN)
# Two short examples (one function, one stdin/stdout) keep prompts small enough for the tiny model's context.
DEFAULT_EXAMPLES: tuple[FewShotExample, ...] = (SUM_ODD_SQUARES, REPEATED_WORDS)
