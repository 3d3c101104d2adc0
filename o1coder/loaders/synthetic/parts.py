"""The parts the synthetic world composes problems from, each written once in five forms.

A :class:`Part` is one operation in a slot of a composition (keep the even numbers, square each value, return the
sum, reverse the words...). It carries everything a problem needs about it, so that statement, pseudocode, code
and tests are all built from the same part and cannot disagree:

- ``phrases``: the natural-language clause, in a few paraphrases (the language is not one fixed string);
- ``outline``: the structure-step pseudocode line (what, not how);
- ``exact``: the refine-step pseudocode line (how, close to the code);
- ``code``: the Python line(s) or expression;
- ``run``: the semantics, a Python function the tests' expected values are computed with. The sandbox then checks
  that the generated code agrees with it, for every generated problem (tests/test_synthetic.py).

Templates use ``{k}`` for the part's constant (``{a}``/``{b}`` for a pair of letters), ``{each}`` for the words
that name the current values in a clause, and ``{src}`` for the list a filter reads.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Part:
    """One operation of a composition. ``name`` is unique within its ``slot``; ``constants`` are the values its
    ``{k}`` may take (empty when it has none)."""

    slot: str
    name: str
    phrases: tuple[str, ...]
    outline: str
    exact: str
    code: str
    run: Callable[..., Any]
    constants: tuple = ()
    tag: str = ""  # a short word for function names, with {k}
    returns_list: bool = False  # aggregates: the result is a list (printed space-separated in stdio programs)

    @property
    def key(self) -> str:
        """The part's name qualified by its slot: what compositions are keyed on (``filter:even``)."""
        return f"{self.slot}:{self.name}"

    def options(self) -> tuple:
        """The constants this part can take; ``(None,)`` for a part without one."""
        return self.constants or (None,)


@dataclass(frozen=True)
class Use:
    """A part with its constant chosen: what a problem is actually built from."""

    part: Part
    k: Any = None

    def fill(self, template: str, **fields) -> str:
        """``template`` with ``{k}`` (or ``{a}``/``{b}`` for a pair of letters) and ``fields`` filled in."""
        if isinstance(self.k, tuple):
            return template.format(a=self.k[0], b=self.k[1], k=self.k, **fields)
        return template.format(k=self.k, **fields)

    def phrase(self, variant: int, **fields) -> str:
        phrases = self.part.phrases
        return self.fill(phrases[variant % len(phrases)], **fields)

    def __call__(self, *args):
        return self.part.run(*args) if self.k is None else self.part.run(*args, self.k)

    @property
    def token(self) -> str:
        """``name`` or ``name=k``: how the use appears in a problem's identity."""
        if self.k is None:
            return self.part.key
        k = "".join(self.k) if isinstance(self.k, tuple) else self.k
        return f"{self.part.key}={k}"

    @property
    def tag(self) -> str:
        """A short word for function names (``gt5``, ``sq``): constants are positive, so tags are identifiers."""
        return self.fill(self.part.tag or self.part.name)


# ------------------------------------------------------------------------------------------- lists of integers

FILTERS: tuple[Part, ...] = (
    Part("filter", "even", ("even",), "the numbers in {src} that are even", "x % 2 == 0", "x % 2 == 0",
         lambda x: x % 2 == 0),
    Part("filter", "odd", ("odd",), "the numbers in {src} that are odd", "x % 2 == 1", "x % 2 == 1",
         lambda x: x % 2 == 1),
    Part("filter", "positive", ("positive",), "the numbers in {src} that are positive", "x > 0", "x > 0",
         lambda x: x > 0, tag="pos"),
    Part("filter", "negative", ("negative",), "the numbers in {src} that are negative", "x < 0", "x < 0",
         lambda x: x < 0, tag="neg"),
    Part("filter", "nonzero", ("non-zero", "different from 0"), "the numbers in {src} that are not 0", "x != 0",
         "x != 0", lambda x: x != 0),
    Part("filter", "greater", ("greater than {k}", "larger than {k}"), "the numbers in {src} greater than {k}",
         "x > {k}", "x > {k}", lambda x, k: x > k, constants=(1, 2, 3, 4, 5), tag="gt{k}"),
    Part("filter", "less", ("less than {k}", "smaller than {k}"), "the numbers in {src} less than {k}",
         "x < {k}", "x < {k}", lambda x, k: x < k, constants=(1, 2, 3, 4, 5), tag="lt{k}"),
    Part("filter", "multiple", ("divisible by {k}", "a multiple of {k}"), "the numbers in {src} divisible by {k}",
         "x % {k} == 0", "x % {k} == 0", lambda x, k: x % k == 0, constants=(3, 4, 5), tag="div{k}"),
)

KEEP_ALL = Part("filter", "all", ("any number",), "the numbers in {src}", "True", "True", lambda x: True)
UNCHANGED = Part("transform", "unchanged", ("leave {each} as it is",), "each value", "x", "x", lambda x: x)
"""Not parts of any problem: what a filter, or a transform or rewrite, is replaced by to ask "would the answer
change without it?" when the tests are drawn."""

TRANSFORMS: tuple[Part, ...] = (
    Part("transform", "square", ("square {each}", "replace {each} by its square"), "each value squared",
         "x * x", "x * x", lambda x: x * x, tag="sq"),
    Part("transform", "negate", ("negate {each}", "change the sign of {each}"), "each value negated", "-x", "-x",
         lambda x: -x, tag="neg"),
    Part("transform", "abs", ("replace {each} by its absolute value", "take the absolute value of {each}"),
         "the absolute value of each value", "abs(x)", "abs(x)", lambda x: abs(x)),
    Part("transform", "add", ("add {k} to {each}", "increase {each} by {k}"), "each value plus {k}", "x + {k}",
         "x + {k}", lambda x, k: x + k, constants=(1, 2, 3, 4, 5), tag="add{k}"),
    Part("transform", "subtract", ("subtract {k} from {each}", "decrease {each} by {k}"), "each value minus {k}",
         "x - {k}", "x - {k}", lambda x, k: x - k, constants=(1, 2, 3, 4, 5), tag="sub{k}"),
    Part("transform", "multiply", ("multiply {each} by {k}", "replace {each} by {k} times itself"),
         "each value times {k}", "x * {k}", "x * {k}", lambda x, k: x * k, constants=(2, 3, 4, 5), tag="times{k}"),
)


def _largest(values):
    return max(values) if values else 0


def _smallest(values):
    return min(values) if values else 0


# aggregate ``code`` is a Python expression over ``values``; ``exact`` is its pseudocode
AGGREGATES: tuple[Part, ...] = (
    Part("aggregate", "sum", ("return their sum", "return the sum of them"), "the sum of {src}", "sum({src})",
         "sum({src})", sum),
    Part("aggregate", "count", ("return how many there are", "return the number of them"),
         "how many values {src} holds", "len({src})", "len({src})", len),
    Part("aggregate", "max", ("return the largest of them (0 if there are none)",
                              "return their maximum, or 0 when there are none"),
         "the largest value of {src} (0 when empty)", "max({src}) if {src} is not empty else 0",
         "max({src}) if {src} else 0", _largest),
    Part("aggregate", "min", ("return the smallest of them (0 if there are none)",
                              "return their minimum, or 0 when there are none"),
         "the smallest value of {src} (0 when empty)", "min({src}) if {src} is not empty else 0",
         "min({src}) if {src} else 0", _smallest),
    Part("aggregate", "product", ("return their product (1 if there are none)",
                                  "return the product of them, or 1 when there are none"),
         "the product of {src} (1 when empty)", "math.prod({src})", "math.prod({src})", math.prod, tag="prod"),
    Part("aggregate", "list", ("return them as a list in their original order", "return the list of them"),
         "{src} as a list", "{src}", "{src}", list, returns_list=True),
    Part("aggregate", "sorted", ("return them as a list sorted in increasing order",
                                 "return them sorted from smallest to largest"),
         "{src} sorted in increasing order", "sorted({src})", "sorted({src})", sorted, tag="sort",
         returns_list=True),
)

ROW_AGGREGATES = tuple(p for p in AGGREGATES if p.name in ("sum", "count", "max", "min"))
"""What a row of a nested problem may be reduced to: one number, whatever the row holds."""

RESULT_TRANSFORMS = tuple(p for p in TRANSFORMS if p.name in ("negate", "add", "subtract", "multiply"))
RESULT_AGGREGATES = tuple(p for p in AGGREGATES if p.name not in ("count", "product"))
"""The second stage of a nested problem changes the row results one to one and reduces them. It has no filter and
no many-to-one transform: the row results are often all even, all non-negative or all zero-or-odd (the sum of
squared even numbers...), so a filter or an absolute value there would often drop everything or do nothing, and
the answer would not depend on the input. Counting the results would only count the rows, and their product is
mostly 0 (a row with nothing kept gives 0)."""


def list_compatible(filters, transforms, aggregate) -> bool:
    """Whether a list composition does something that its parts do not already do with one part fewer.

    The rules remove compositions whose answer never depends on one of their parts (the count of squared values is
    the count of values; the absolute value of a number known to be non-negative is the number; a sum does not
    care whether zeros, still zero after the transforms, were kept) or whose parts cancel out (square after negate,
    add after subtract). They are part-level rules, so a split's capacity is an exact product.
    """
    names = [t.name for t in transforms]
    if aggregate.name == "count" and names:
        return False
    if len(set(names)) != len(names):
        return False
    for first, second in itertools.pairwise(names):
        if (first, second) in _CANCELLING:
            return False
    nonnegative = any(f.name in ("positive", "greater") for f in filters)
    for name in names:
        if name == "abs" and nonnegative:
            return False
        nonnegative = name in ("square", "abs") or (nonnegative and name in ("add", "multiply"))
    return not any(f.name == "nonzero" for f in filters) or _keeps_zeros_useful(names, aggregate.name)


def _keeps_zeros_useful(names: list[str], aggregate: str) -> bool:
    """Whether dropping the zeros can change the answer: not when zeros stay zero (no add or subtract) and the
    aggregate cannot see a zero (a sum; a maximum of values never below zero; a minimum of values never above)."""
    if any(n in ("add", "subtract") for n in names):
        return True
    sign = None  # what every transformed value is known to be: "nonneg", "nonpos" or unknown
    for name in names:
        if name in ("square", "abs"):
            sign = "nonneg"
        elif name == "negate" and sign:
            sign = "nonpos" if sign == "nonneg" else "nonneg"
    return not (aggregate == "sum" or (aggregate == "max" and sign == "nonneg")
                or (aggregate == "min" and sign == "nonpos"))


_CANCELLING = {("square", "abs"), ("abs", "square"), ("negate", "square"), ("negate", "abs"), ("add", "subtract"),
               ("subtract", "add")}


# ------------------------------------------------------------------------------------------------------ strings

REWRITES: tuple[Part, ...] = (
    Part("rewrite", "reverse", ("reverse the whole string", "write the string backwards"),
         "the string reversed", "s reversed", "s[::-1]", lambda s: s[::-1], tag="rev"),
    Part("rewrite", "reverse_words", ("reverse the order of the words", "put the words in reverse order"),
         "the words in reverse order", "join(reversed(words of s))", '" ".join(s.split()[::-1])',
         lambda s: " ".join(s.split()[::-1]), tag="revwords"),
    Part("rewrite", "sort_words", ("sort the words alphabetically", "put the words in alphabetical order"),
         "the words sorted", "join(sorted(words of s))", '" ".join(sorted(s.split()))',
         lambda s: " ".join(sorted(s.split())), tag="sortwords"),
    Part("rewrite", "drop_vowels", ("remove every vowel (a, e, i, o, u)", "delete the vowels a, e, i, o and u"),
         "s without its vowels", "keep the characters of s that are not in 'aeiou'",
         '"".join(c for c in s if c not in "aeiou")', lambda s: "".join(c for c in s if c not in "aeiou"),
         tag="novowels"),
    Part("rewrite", "dedupe_letters", ("in every word, keep only the first occurrence of each letter",
                                       "remove repeated letters inside each word, keeping the first one"),
         "each word without repeated letters", "for each word: keep each letter's first occurrence",
         '" ".join("".join(dict.fromkeys(w)) for w in s.split())',
         lambda s: " ".join("".join(dict.fromkeys(w)) for w in s.split()), tag="dedupe"),
    Part("rewrite", "replace", ("replace every '{a}' with '{b}'", "change each letter '{a}' into '{b}'"),
         "'{a}' replaced by '{b}'", "replace '{a}' by '{b}' in s", 's.replace("{a}", "{b}")',
         lambda s, k: s.replace(k[0], k[1]), constants=(("t", "d"), ("s", "z"), ("r", "l"), ("n", "m"), ("p", "b")),
         tag="{a}to{b}"),
    Part("rewrite", "shift", ("shift every letter {k} places forward in the alphabet (z wraps around to a)",
                              "replace each letter by the letter {k} places after it, wrapping from z to a"),
         "each letter shifted by {k}", "for each letter c: the letter {k} places after c, wrapping after z",
         '"".join(chr((ord(c) - 97 + {k}) % 26 + 97) if c.isalpha() else c for c in s)',
         lambda s, k: "".join(chr((ord(c) - 97 + k) % 26 + 97) if c.isalpha() else c for c in s),
         constants=(1, 2, 3), tag="shift{k}"),
    Part("rewrite", "drop_short", ("remove the words with fewer than {k} letters",
                                   "delete every word shorter than {k} letters"),
         "only the words with at least {k} letters", "keep the words w of s with len(w) >= {k}",
         '" ".join(w for w in s.split() if len(w) >= {k})',
         lambda s, k: " ".join(w for w in s.split() if len(w) >= k), constants=(3, 4, 5), tag="min{k}"),
    Part("rewrite", "upper", ("convert it to upper case", "turn every letter into a capital letter"),
         "the string in upper case", "upper case of s", "s.upper()", lambda s: s.upper()),
    Part("rewrite", "capitalize", ("capitalize the first letter of every word",
                                   "make the first letter of each word a capital"),
         "each word capitalized", "capitalize each word of s", '" ".join(w.capitalize() for w in s.split())',
         lambda s: " ".join(w.capitalize() for w in s.split()), tag="cap"),
)

CASE_REWRITES = frozenset({"upper", "capitalize"})
"""Rewrites that leave capital letters behind: they may only come last, so every other rewrite reads lower-case
text (a shift or a replacement after an upper-casing would do nothing)."""


def rewrites_compatible(chain) -> bool:
    """Whether a chain of rewrites changes the text in a way none of its shorter chains does (see
    :func:`list_compatible` for why the rules are part-level)."""
    names = [r.name for r in chain]
    if len(set(names)) != len(names):
        return False
    if any(n in CASE_REWRITES for n in names[:-1]):
        return False
    if {"reverse_words", "sort_words"} <= set(names):  # sorting makes the earlier word order irrelevant
        return False
    # a replacement after a shift: the letters to replace may all have been shifted away
    return not ("shift" in names and "replace" in names and names.index("shift") < names.index("replace"))


WORDS: tuple[str, ...] = (
    "apple", "banana", "cherry", "letter", "coffee", "tree", "moon", "river", "stone", "paper", "garden", "street",
    "bottle", "school", "kitten", "summer", "winter", "green", "little", "happy", "sweet", "ball", "book", "door",
    "hill", "cat", "dog", "sun", "map", "pen", "cup", "red", "sky", "fly", "bird", "fish", "glass", "small", "tall",
    "puppy", "mirror", "pepper", "butter", "dinner", "rabbit", "yellow", "silly", "sleep", "boot", "add", "strength",
    "rhythm", "sprints", "crafts", "go", "by", "my", "up", "on", "we", "hi", "ox", "do", "no",
)
"""Lower-case words for string problems: every word has a consonant (so removing vowels never empties a word), many
have repeated letters (so removing repeats does something), a few keep five consonants (so removing vowels and
then short words can leave something), and some are short (so removing short words does something)."""
