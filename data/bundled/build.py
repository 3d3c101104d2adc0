"""Build the bundled problems: writes train.jsonl and eval.jsonl next to this script.

The problems below were written for this project (none is copied from a benchmark). Each has tests, a reference
solution and a reasoning trace in the step format of o1coder.reasoning: one structure step, one to three refine
steps, one code step whose code passes the tests. Edit this file, then run

    python data/bundled/build.py

tests/test_bundled.py checks that the JSONL files are exactly what this script writes, and runs every reference and
every trace's code in the sandbox.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from o1coder.problems import Problem, TestCase
from o1coder.reasoning.steps import Action, Step

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "eval")

_PROBLEMS: list[Problem] = []


def _text(block: str) -> str:
    return textwrap.dedent(block).strip("\n")


def S(title: str, explanation: str, pseudocode: str) -> Step:  # noqa: N802 - reads like the trace it builds
    return Step(Action.STRUCTURE, title, explanation, _text(pseudocode))


def R(title: str, explanation: str, pseudocode: str) -> Step:  # noqa: N802
    return Step(Action.REFINE, title, explanation, _text(pseudocode))


def C(title: str, explanation: str, code: str) -> Step:  # noqa: N802
    return Step(Action.CODE, title, explanation, code=_text(code))


def function_problem(name: str, split: str, topics: list[str], prompt: str, tests: list[str], trace: list[Step],
                     reference: str | None = None) -> None:
    cases = [TestCase.assertion(t) for t in tests]
    _add(name, split, topics, prompt, name, cases, trace, reference)


def stdio_problem(name: str, split: str, topics: list[str], prompt: str, tests: list[tuple[str, str]],
                  trace: list[Step], reference: str | None = None) -> None:
    cases = [TestCase.stdio(i, o) for i, o in tests]
    _add(name, split, topics, prompt, None, cases, trace, reference)


def _add(name, split, topics, prompt, entry_point, cases, trace, reference):
    code = trace[-1].code
    _PROBLEMS.append(Problem(
        id=f"bundled/{name}",
        prompt=" ".join(prompt.split()),
        entry_point=entry_point,
        tests=cases,
        public_tests=cases[:1],
        reference=_text(reference) if reference else code,
        metadata={"split": split, "topics": topics, "source": "o1coder (written for this project)",
                  "trace": [s.to_dict() for s in trace]},
    ))


# =============================================================================================== function problems

function_problem(
    "count_vowel_words", "train", ["strings"],
    """Count the words in a sentence that begin with a vowel (a, e, i, o or u, in upper or lower case).
    Words are separated by whitespace.""",
    ['assert count_vowel_words("An apple is on the table") == 4',
     'assert count_vowel_words("") == 0',
     'assert count_vowel_words("Umbrellas keep everyone dry") == 2',
     'assert count_vowel_words("   sky  ") == 0'],
    [S("Outline the counter", "Split the sentence into words and count those whose first letter is a vowel.", """
        function count_vowel_words(sentence: str) -> int
            words <- the whitespace-separated words of sentence
            return how many words start with a vowel
        """),
     R("Define the vowel test", "Lower-casing the first letter handles capitals; splitting on any whitespace drops "
       "empty words, so an empty sentence gives 0.", """
        function count_vowel_words(sentence):
            count <- 0
            for word in split(sentence):
                if lowercase(word[0]) in {a, e, i, o, u}:
                    count <- count + 1
            return count
        """),
     C("Write the Python function", "A loop over the words with a set of vowels.", """
        def count_vowel_words(sentence):
            vowels = set("aeiou")
            count = 0
            for word in sentence.split():
                if word[0].lower() in vowels:
                    count += 1
            return count
        """)],
)

function_problem(
    "second_largest_distinct", "train", ["lists"],
    """Return the second largest distinct value in a list of numbers, or None when the list has fewer than two
    distinct values.""",
    ["assert second_largest_distinct([4, 1, 7, 7, 3]) == 4",
     "assert second_largest_distinct([5, 5, 5]) is None",
     "assert second_largest_distinct([]) is None",
     "assert second_largest_distinct([-2, -8]) == -8"],
    [S("Outline the function", "Look only at distinct values and pick the one just below the maximum.", """
        function second_largest_distinct(nums: list of numbers) -> number or None
            distinct <- the distinct values of nums
            if distinct has fewer than two values: return None
            return the second largest value of distinct
        """),
     R("Track the top two in one pass", "Keeping the largest and second largest values seen so far avoids sorting; "
       "a value equal to the largest must not become the second.", """
        function second_largest_distinct(nums):
            first <- None; second <- None
            for x in nums:
                if first is None or x > first:
                    second <- first; first <- x
                else if x < first and (second is None or x > second):
                    second <- x
            return second
        """),
     C("Write the Python function", "", """
        def second_largest_distinct(nums):
            first = None
            second = None
            for x in nums:
                if first is None or x > first:
                    second = first
                    first = x
                elif x < first and (second is None or x > second):
                    second = x
            return second
        """)],
    reference="""
        def second_largest_distinct(nums):
            values = sorted(set(nums))
            return values[-2] if len(values) >= 2 else None
        """,
)

function_problem(
    "run_length_encode", "train", ["strings"],
    """Compress a string with run-length encoding: each maximal run of one repeated character becomes the character
    followed by the length of the run, so 'aaabcc' becomes 'a3b1c2'. The empty string stays empty.""",
    ['assert run_length_encode("aaabcc") == "a3b1c2"',
     'assert run_length_encode("") == ""',
     'assert run_length_encode("x") == "x1"',
     'assert run_length_encode("aaaaaaaaaaaab") == "a12b1"'],
    [S("Outline the encoder", "Cut the text into runs, then write each run as character and length.", """
        function run_length_encode(text: str) -> str
            runs <- the maximal runs of equal characters in text
            return the concatenation of char + length for each run
        """),
     R("Walk the string keeping the current run", "One pass with the current character and its count; the last run "
       "is flushed after the loop, and empty text returns early.", """
        function run_length_encode(text):
            if text is empty: return ""
            parts <- empty list
            current <- text[0]; length <- 1
            for c in text[1:]:
                if c == current:
                    length <- length + 1
                else:
                    append current + str(length) to parts
                    current <- c; length <- 1
            append current + str(length) to parts
            return join(parts)
        """),
     C("Write the Python function", "", """
        def run_length_encode(text):
            if not text:
                return ""
            parts = []
            current, length = text[0], 1
            for c in text[1:]:
                if c == current:
                    length += 1
                else:
                    parts.append(f"{current}{length}")
                    current, length = c, 1
            parts.append(f"{current}{length}")
            return "".join(parts)
        """)],
)

function_problem(
    "run_length_decode", "train", ["strings", "parsing"],
    """Expand a run-length encoded string. The input is a sequence of pairs: one non-digit character followed by a
    count written with one or more digits, so 'a3b1' stands for 'aaab' and 'c12' for twelve c's. Return the
    expanded string.""",
    ['assert run_length_decode("a3b1") == "aaab"',
     'assert run_length_decode("") == ""',
     'assert run_length_decode("c12") == "c" * 12',
     'assert run_length_decode("x2y10z1") == "xx" + "y" * 10 + "z"'],
    [S("Outline the decoder", "Read (character, count) pairs and repeat each character.", """
        function run_length_decode(encoded: str) -> str
            pairs <- the (character, count) pairs of encoded
            return the concatenation of character * count for each pair
        """),
     R("Read every digit of the count", "Counts can have several digits, so after each character consume digits "
       "until a non-digit appears.", """
        function run_length_decode(encoded):
            result <- empty list; i <- 0
            while i < length(encoded):
                char <- encoded[i]; i <- i + 1
                start <- i
                while i < length(encoded) and encoded[i] is a digit:
                    i <- i + 1
                count <- int(encoded[start:i])
                append char repeated count times to result
            return join(result)
        """),
     C("Write the Python function", "", """
        def run_length_decode(encoded):
            result = []
            i = 0
            while i < len(encoded):
                char = encoded[i]
                i += 1
                start = i
                while i < len(encoded) and encoded[i].isdigit():
                    i += 1
                result.append(char * int(encoded[start:i]))
            return "".join(result)
        """)],
)

function_problem(
    "digit_root", "train", ["math"],
    """Given a non-negative integer, add up its decimal digits, and keep adding up the digits of the result until a
    single digit remains. Return that digit.""",
    ["assert digit_root(0) == 0",
     "assert digit_root(38) == 2",
     "assert digit_root(9875) == 2",
     "assert digit_root(7) == 7"],
    [S("Outline the repetition", "Apply a digit-sum helper until one digit is left.", """
        function digit_root(n: int) -> int
            while n has more than one digit:
                n <- digit_sum(n)
            return n

        function digit_sum(n: int) -> int
        """),
     R("Compute the digit sum with arithmetic", "Take the last digit with mod 10 and drop it with integer division; "
       "n >= 10 is the test for more than one digit.", """
        function digit_sum(n):
            total <- 0
            while n > 0:
                total <- total + n mod 10
                n <- n div 10
            return total

        function digit_root(n):
            while n >= 10:
                n <- digit_sum(n)
            return n
        """),
     C("Write the Python functions", "", """
        def digit_sum(n):
            total = 0
            while n > 0:
                total += n % 10
                n //= 10
            return total


        def digit_root(n):
            while n >= 10:
                n = digit_sum(n)
            return n
        """)],
    reference="""
        def digit_root(n):
            return 0 if n == 0 else 1 + (n - 1) % 9
        """,
)

function_problem(
    "is_perfect_number", "train", ["math"],
    """A perfect number equals the sum of its positive divisors other than itself, like 6 = 1 + 2 + 3. Return True
    if the given positive integer is perfect and False otherwise.""",
    ["assert is_perfect_number(6) is True",
     "assert is_perfect_number(28) is True",
     "assert is_perfect_number(12) is False",
     "assert is_perfect_number(1) is False",
     "assert is_perfect_number(496) is True"],
    [S("Outline the check", "Compare n with the sum of its proper divisors.", """
        function is_perfect_number(n: int) -> bool
            return sum_of_proper_divisors(n) == n

        function sum_of_proper_divisors(n: int) -> int
        """),
     R("Pair divisors up to the square root", "Every divisor d below the square root comes with n / d; 1 is always a "
       "proper divisor except for n = 1, and a square root must be counted once.", """
        function sum_of_proper_divisors(n):
            if n == 1: return 0
            total <- 1
            d <- 2
            while d * d <= n:
                if n mod d == 0:
                    total <- total + d
                    if d != n / d: total <- total + n / d
                d <- d + 1
            return total
        """),
     C("Write the Python functions", "", """
        def sum_of_proper_divisors(n):
            if n == 1:
                return 0
            total = 1
            d = 2
            while d * d <= n:
                if n % d == 0:
                    total += d
                    if d != n // d:
                        total += n // d
                d += 1
            return total


        def is_perfect_number(n):
            return sum_of_proper_divisors(n) == n
        """)],
)

function_problem(
    "merge_sorted", "train", ["lists", "sorting"],
    """Merge two lists that are each sorted in ascending order into one sorted list, without calling a sort
    function.""",
    ["assert merge_sorted([1, 4, 9], [2, 3, 10]) == [1, 2, 3, 4, 9, 10]",
     "assert merge_sorted([], [1, 2]) == [1, 2]",
     "assert merge_sorted([5, 5], [5]) == [5, 5, 5]",
     "assert merge_sorted([], []) == []"],
    [S("Outline the merge", "Repeatedly take the smaller front element, then append what is left.", """
        function merge_sorted(a: sorted list, b: sorted list) -> sorted list
            while both lists have elements left: move the smaller front element to the result
            append the rest of whichever list is not used up
            return the result
        """),
     R("Use two indices", "Indices avoid removing from the front of a list; taking from a on ties keeps the merge "
       "stable.", """
        function merge_sorted(a, b):
            result <- empty list; i <- 0; j <- 0
            while i < length(a) and j < length(b):
                if a[i] <= b[j]: append a[i]; i <- i + 1
                else: append b[j]; j <- j + 1
            append a[i:] and b[j:] to result
            return result
        """),
     C("Write the Python function", "", """
        def merge_sorted(a, b):
            result = []
            i = j = 0
            while i < len(a) and j < len(b):
                if a[i] <= b[j]:
                    result.append(a[i])
                    i += 1
                else:
                    result.append(b[j])
                    j += 1
            result.extend(a[i:])
            result.extend(b[j:])
            return result
        """)],
)

function_problem(
    "group_by_length", "train", ["dicts", "strings"],
    """Group words by their length: return a dictionary that maps each length to the list of words with that length,
    keeping the words in the order they appear.""",
    ['assert group_by_length(["hi", "to", "cat", "a"]) == {2: ["hi", "to"], 3: ["cat"], 1: ["a"]}',
     "assert group_by_length([]) == {}",
     'assert group_by_length(["same", "same"]) == {4: ["same", "same"]}'],
    [S("Outline the grouping", "One dictionary from length to words, filled in a single pass.", """
        function group_by_length(words: list of str) -> dict of int to list of str
            groups <- empty dictionary
            for each word: add it to the group of its length
            return groups
        """),
     R("Create groups on first use", "A missing length starts a new list; appending keeps input order, and "
       "duplicates stay.", """
        function group_by_length(words):
            groups <- empty dictionary
            for word in words:
                key <- length(word)
                if key not in groups: groups[key] <- empty list
                append word to groups[key]
            return groups
        """),
     C("Write the Python function", "", """
        def group_by_length(words):
            groups = {}
            for word in words:
                groups.setdefault(len(word), []).append(word)
            return groups
        """)],
)

function_problem(
    "invert_mapping", "train", ["dicts", "sorting"],
    """Invert a dictionary: return a new dictionary that maps each value of the input to the sorted list of the keys
    that had that value.""",
    ['assert invert_mapping({"a": 1, "b": 2, "c": 1}) == {1: ["a", "c"], 2: ["b"]}',
     "assert invert_mapping({}) == {}",
     'assert invert_mapping({3: "x", 1: "x", 2: "y"}) == {"x": [1, 3], "y": [2]}'],
    [S("Outline the inversion", "Collect keys per value, then sort each list.", """
        function invert_mapping(mapping: dict) -> dict of value to sorted list of keys
            inverted <- for each (key, value): add key to the list of value
            sort every list of inverted
            return inverted
        """),
     R("Spell out both passes", "Sorting once at the end is cheaper than keeping each list sorted while building "
       "it.", """
        function invert_mapping(mapping):
            inverted <- empty dictionary
            for key, value in mapping:
                if value not in inverted: inverted[value] <- empty list
                append key to inverted[value]
            for value in inverted:
                sort inverted[value]
            return inverted
        """),
     C("Write the Python function", "", """
        def invert_mapping(mapping):
            inverted = {}
            for key, value in mapping.items():
                inverted.setdefault(value, []).append(key)
            for keys in inverted.values():
                keys.sort()
            return inverted
        """)],
)

function_problem(
    "rotate_left", "train", ["lists"],
    """Rotate a list to the left by k positions and return the new list: the first k elements move to the end.
    k may be larger than the length of the list, and an empty list stays empty.""",
    ["assert rotate_left([1, 2, 3, 4, 5], 2) == [3, 4, 5, 1, 2]",
     "assert rotate_left([1, 2, 3], 7) == [2, 3, 1]",
     "assert rotate_left([], 3) == []",
     'assert rotate_left(["a"], 0) == ["a"]'],
    [S("Outline the rotation", "Cut the list after k elements and swap the two parts.", """
        function rotate_left(items: list, k: int) -> list
            shift <- k reduced to the length of items
            return items after the first shift elements, then the first shift elements
        """),
     R("Reduce k and guard the empty list", "Rotating by the length gives the same list, so k mod n is enough; the "
       "empty list must return before the modulo divides by zero.", """
        function rotate_left(items, k):
            n <- length(items)
            if n == 0: return empty list
            shift <- k mod n
            return items[shift:] + items[:shift]
        """),
     C("Write the Python function", "", """
        def rotate_left(items, k):
            n = len(items)
            if n == 0:
                return []
            shift = k % n
            return items[shift:] + items[:shift]
        """)],
)

function_problem(
    "longest_increasing_run", "train", ["lists"],
    """Return the length of the longest run of consecutive elements in a list where each element is strictly
    greater than the one before it. An empty list has a longest run of 0.""",
    ["assert longest_increasing_run([1, 2, 2, 3, 4, 5, 1]) == 4",
     "assert longest_increasing_run([]) == 0",
     "assert longest_increasing_run([5, 4, 3]) == 1",
     "assert longest_increasing_run([1, 3, 5, 7]) == 4"],
    [S("Outline the scan", "Measure each increasing run while scanning and keep the longest.", """
        function longest_increasing_run(nums: list of numbers) -> int
            scan nums, tracking the length of the current increasing run
            return the longest length seen
        """),
     R("Reset the run when the sequence stops rising", "A run of one element always exists in a non-empty list; an "
       "equal neighbour ends the run because the increase must be strict.", """
        function longest_increasing_run(nums):
            if nums is empty: return 0
            best <- 1; current <- 1
            for i from 1 to length(nums) - 1:
                if nums[i] > nums[i - 1]: current <- current + 1
                else: current <- 1
                best <- max(best, current)
            return best
        """),
     C("Write the Python function", "", """
        def longest_increasing_run(nums):
            if not nums:
                return 0
            best = current = 1
            for i in range(1, len(nums)):
                current = current + 1 if nums[i] > nums[i - 1] else 1
                best = max(best, current)
            return best
        """)],
)

function_problem(
    "min_coins", "train", ["dynamic programming"],
    """Given a list of coin values, each usable any number of times, and a target amount, return the smallest
    number of coins that add up to the amount, or -1 if the amount cannot be made. An amount of 0 needs 0 coins.""",
    ["assert min_coins([1, 2, 5], 11) == 3",
     "assert min_coins([2], 3) == -1",
     "assert min_coins([7, 3], 0) == 0",
     "assert min_coins([4, 3, 1], 6) == 2"],
    [S("Outline a table of best counts", "Greedy choices fail (4 + 1 + 1 versus 3 + 3), so solve every smaller "
       "amount first.", """
        function min_coins(coins: list of int, amount: int) -> int
            best <- table: fewest coins for every amount from 0 to amount
            return best[amount], or -1 when it cannot be made
        """),
     R("Write the recurrence", "The last coin used is one of the coin values, so best[v] extends best[v - coin] by "
       "one coin.", """
        function min_coins(coins, amount):
            best[0] <- 0
            for v from 1 to amount:
                best[v] <- min over coins c <= v of best[v - c] + 1
            return best[amount]
        """),
     R("Mark amounts that cannot be made", "Use infinity for an unreachable amount so the minimum ignores it, and "
       "turn infinity into -1 at the end.", """
        function min_coins(coins, amount):
            best <- list of amount + 1 values, all infinity; best[0] <- 0
            for v from 1 to amount:
                for c in coins:
                    if c <= v and best[v - c] + 1 < best[v]:
                        best[v] <- best[v - c] + 1
            if best[amount] is infinity: return -1
            return best[amount]
        """),
     C("Write the Python function", "", """
        def min_coins(coins, amount):
            inf = float("inf")
            best = [0] + [inf] * amount
            for v in range(1, amount + 1):
                for c in coins:
                    if c <= v and best[v - c] + 1 < best[v]:
                        best[v] = best[v - c] + 1
            return -1 if best[amount] == inf else best[amount]
        """)],
)

function_problem(
    "is_balanced", "train", ["strings", "stacks"],
    """Check whether the brackets in a string are balanced: every '(', '[' and '{' must be closed by the matching
    bracket, in the right order. Other characters are ignored.""",
    ['assert is_balanced("a(b[c]{d}e)") is True',
     'assert is_balanced("(]") is False',
     'assert is_balanced("((") is False',
     'assert is_balanced("") is True',
     'assert is_balanced("}{") is False'],
    [S("Outline a stack check", "Open brackets wait on a stack for their partner.", """
        function is_balanced(text: str) -> bool
            stack <- empty
            for each bracket in text: push openers, match closers against the top
            return whether every opener was matched
        """),
     R("Handle every way to fail", "A closer with an empty stack or the wrong opener on top fails at once; openers "
       "left at the end fail too.", """
        function is_balanced(text):
            partner <- {")": "(", "]": "[", "}": "{"}
            stack <- empty list
            for c in text:
                if c is an opener: push c
                else if c is a closer:
                    if stack is empty or pop() != partner[c]: return False
            return stack is empty
        """),
     C("Write the Python function", "", """
        def is_balanced(text):
            partner = {")": "(", "]": "[", "}": "{"}
            stack = []
            for c in text:
                if c in "([{":
                    stack.append(c)
                elif c in partner:
                    if not stack or stack.pop() != partner[c]:
                        return False
            return not stack
        """)],
)

function_problem(
    "caesar_shift", "train", ["strings"],
    """Shift every letter of a text k places forward in the alphabet, wrapping around from z to a. Upper-case
    letters stay upper case and lower-case letters stay lower case; characters other than the letters a-z and A-Z
    are unchanged. k may be negative or larger than 26.""",
    ['assert caesar_shift("abc", 1) == "bcd"',
     'assert caesar_shift("Zebra!", 2) == "Bgdtc!"',
     'assert caesar_shift("Hello, World", -3) == "Ebiil, Tloia"',
     'assert caesar_shift("xyz", 29) == "abc"'],
    [S("Outline the shift", "Shift each character on its own and join the results.", """
        function caesar_shift(text: str, k: int) -> str
            return the concatenation of shift_char(c, k) for each c in text

        function shift_char(c: character, k: int) -> character
        """),
     R("Shift inside the right alphabet", "Work with positions 0 to 25 from 'a' or 'A'; mod 26 wraps both ways, "
       "and Python's mod is never negative.", """
        function shift_char(c, k):
            if c is between "a" and "z": base <- code("a")
            else if c is between "A" and "Z": base <- code("A")
            else: return c
            return character(base + (code(c) - base + k) mod 26)
        """),
     C("Write the Python functions", "", """
        def shift_char(c, k):
            if "a" <= c <= "z":
                base = ord("a")
            elif "A" <= c <= "Z":
                base = ord("A")
            else:
                return c
            return chr(base + (ord(c) - base + k) % 26)


        def caesar_shift(text, k):
            return "".join(shift_char(c, k) for c in text)
        """)],
)

function_problem(
    "flatten", "train", ["lists", "recursion"],
    """Flatten a list that may contain nested lists, to any depth, into a flat list of its non-list elements in
    their left-to-right order. Only lists are opened; other values such as tuples and strings are kept whole.""",
    ["assert flatten([1, [2, [3, [4]], 5]]) == [1, 2, 3, 4, 5]",
     "assert flatten([]) == []",
     'assert flatten([[], [[]], "ab"]) == ["ab"]',
     "assert flatten([[1, 2], (3, 4)]) == [1, 2, (3, 4)]"],
    [S("Outline the recursion", "A list is flattened by flattening each of its items in turn.", """
        function flatten(items: nested list) -> flat list
            result <- empty list
            for each item: if it is a list, add its flattened items; otherwise add the item
            return result
        """),
     R("Collect into one result list", "A helper that appends into a shared list avoids building and copying a new "
       "list at every level.", """
        function flatten(items):
            result <- empty list
            collect(items, result)
            return result

        function collect(items, result):
            for item in items:
                if item is a list: collect(item, result)
                else: append item to result
        """),
     C("Write the Python functions", "", """
        def collect(items, result):
            for item in items:
                if isinstance(item, list):
                    collect(item, result)
                else:
                    result.append(item)


        def flatten(items):
            result = []
            collect(items, result)
            return result
        """)],
)

function_problem(
    "word_frequencies", "train", ["strings", "dicts"],
    """Count how often each word occurs in a text. A word is a maximal run of letters, and case is ignored: 'The'
    and 'the' are the same word, reported in lower case. Return a dictionary from word to count.""",
    ['assert word_frequencies("The cat and the hat.") == {"the": 2, "cat": 1, "and": 1, "hat": 1}',
     'assert word_frequencies("") == {}',
     'assert word_frequencies("it\'s 2 o\'clock") == {"it": 1, "s": 1, "o": 1, "clock": 1}',
     'assert word_frequencies("Go, go, GO!") == {"go": 3}'],
    [S("Outline the counting", "Extract the words, then count them in a dictionary.", """
        function word_frequencies(text: str) -> dict of str to int
            words <- extract_words(lowercase(text))
            return a count of each word in words

        function extract_words(text: str) -> list of str
        """),
     R("Extract words letter by letter", "Any non-letter ends the current word, so punctuation, digits and "
       "apostrophes all split words; the last word is flushed after the loop.", """
        function extract_words(text):
            words <- empty list; current <- ""
            for c in text:
                if c is a letter: current <- current + c
                else if current is not empty:
                    append current to words; current <- ""
            if current is not empty: append current to words
            return words
        """),
     R("Count with a dictionary", "A missing word counts as 0 before it is incremented; lower-casing the whole "
       "text first makes 'The' and 'the' one key.", """
        function word_frequencies(text):
            counts <- empty dictionary
            for w in extract_words(lowercase(text)):
                counts[w] <- counts.get(w, 0) + 1
            return counts
        """),
     C("Write the Python functions", "", """
        def extract_words(text):
            words = []
            current = ""
            for c in text:
                if c.isalpha():
                    current += c
                elif current:
                    words.append(current)
                    current = ""
            if current:
                words.append(current)
            return words


        def word_frequencies(text):
            counts = {}
            for w in extract_words(text.lower()):
                counts[w] = counts.get(w, 0) + 1
            return counts
        """)],
)

function_problem(
    "top_k_frequent", "train", ["sorting", "dicts"],
    """Return the k most frequent words of a list, most frequent first. Words with the same count are ordered
    alphabetically. If there are fewer than k distinct words, return all of them.""",
    ['assert top_k_frequent(["b", "a", "b", "c", "a", "b"], 2) == ["b", "a"]',
     'assert top_k_frequent(["x", "y", "z"], 2) == ["x", "y"]',
     "assert top_k_frequent([], 3) == []",
     'assert top_k_frequent(["p", "q", "q"], 5) == ["q", "p"]'],
    [S("Outline count, sort, cut", "Count the words, order them, keep the first k.", """
        function top_k_frequent(words: list of str, k: int) -> list of str
            counts <- how often each word occurs
            ordered <- the distinct words, most frequent first, ties alphabetical
            return the first k of ordered
        """),
     R("Count the words", "A dictionary from word to count, filled in one pass.", """
        function top_k_frequent(words, k):
            counts <- empty dictionary
            for w in words: counts[w] <- counts.get(w, 0) + 1
            ordered <- distinct words by frequency, ties alphabetical
            return ordered[:k]
        """),
     R("Choose the sort key", "Sorting by (-count, word) puts higher counts first and breaks ties alphabetically in "
       "one sort; slicing past the end simply returns everything.", """
        function top_k_frequent(words, k):
            counts <- empty dictionary
            for w in words: counts[w] <- counts.get(w, 0) + 1
            ordered <- sort keys of counts by (-counts[w], w)
            return ordered[:k]
        """),
     C("Write the Python function", "", """
        def top_k_frequent(words, k):
            counts = {}
            for w in words:
                counts[w] = counts.get(w, 0) + 1
            ordered = sorted(counts, key=lambda w: (-counts[w], w))
            return ordered[:k]
        """)],
)

function_problem(
    "sort_records", "train", ["sorting"],
    """Given a list of (name, age) pairs, return them sorted by age from oldest to youngest; people of the same age
    are sorted by name in alphabetical order.""",
    ['assert sort_records([("ann", 30), ("bob", 25), ("cy", 30)]) == [("ann", 30), ("cy", 30), ("bob", 25)]',
     "assert sort_records([]) == []",
     'assert sort_records([("zed", 1), ("amy", 1)]) == [("amy", 1), ("zed", 1)]'],
    [S("Outline the sort", "One sort with a composite key does both orderings.", """
        function sort_records(records: list of (name, age)) -> list of (name, age)
            return records sorted by age descending, then name ascending
        """),
     R("Build the key", "Negating the age turns 'oldest first' into an ascending order, so a single ascending sort "
       "on (-age, name) works.", """
        function sort_records(records):
            return sort records by key (name, age) -> (-age, name)
        """),
     C("Write the Python function", "", """
        def sort_records(records):
            return sorted(records, key=lambda record: (-record[1], record[0]))
        """)],
)

function_problem(
    "transpose", "train", ["lists", "matrices"],
    """Transpose a matrix given as a list of rows of equal length: row i of the result is column i of the input.
    The transpose of an empty matrix is an empty list.""",
    ["assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]",
     "assert transpose([]) == []",
     "assert transpose([[7]]) == [[7]]",
     "assert transpose([[1], [2]]) == [[1, 2]]"],
    [S("Outline the transpose", "Build one output row per input column.", """
        function transpose(matrix: list of rows) -> list of rows
            for each column index j: the new row j is the j-th element of every row
            return the new rows
        """),
     R("Index the columns", "The column count comes from the first row, which needs the empty matrix handled "
       "first.", """
        function transpose(matrix):
            if matrix is empty: return empty list
            columns <- length(matrix[0])
            return [[row[j] for row in matrix] for j from 0 to columns - 1]
        """),
     C("Write the Python function", "", """
        def transpose(matrix):
            if not matrix:
                return []
            columns = len(matrix[0])
            return [[row[j] for row in matrix] for j in range(columns)]
        """)],
)

function_problem(
    "group_anagrams", "train", ["strings", "dicts"],
    """Group the words of a list that are anagrams of each other (the same letters with the same counts). Return a
    list of groups; each group keeps its words in input order, and the groups are ordered by the position of their
    first word.""",
    ['assert group_anagrams(["eat", "tea", "tan", "ate", "nat", "bat"]) == '
     '[["eat", "tea", "ate"], ["tan", "nat"], ["bat"]]',
     "assert group_anagrams([]) == []",
     'assert group_anagrams(["ab", "ba", "ab"]) == [["ab", "ba", "ab"]]'],
    [S("Outline grouping by a signature", "Anagrams share a signature; group words by it.", """
        function group_anagrams(words: list of str) -> list of groups
            groups <- mapping from signature(word) to the words with it
            return the groups in order of first appearance

        function signature(word: str) -> key shared by all anagrams of word
        """),
     R("Pick the signature and keep the order", "The sorted letters of a word are the same for all its anagrams; "
       "a dictionary remembers insertion order, which is the order of each group's first word.", """
        function signature(word):
            return the letters of word in sorted order, joined

        function group_anagrams(words):
            groups <- empty (insertion-ordered) dictionary
            for w in words:
                append w to groups[signature(w)], creating the list when missing
            return list of the values of groups
        """),
     C("Write the Python function", "", """
        def group_anagrams(words):
            groups = {}
            for w in words:
                groups.setdefault("".join(sorted(w)), []).append(w)
            return list(groups.values())
        """)],
)

function_problem(
    "max_subarray_sum", "train", ["dynamic programming", "lists"],
    """Return the largest sum of a non-empty run of consecutive elements in a list of integers. The list is never
    empty.""",
    ["assert max_subarray_sum([-2, 1, -3, 4, -1, 2, 1, -5, 4]) == 6",
     "assert max_subarray_sum([-3, -1, -2]) == -1",
     "assert max_subarray_sum([5]) == 5",
     "assert max_subarray_sum([2, -1, 2]) == 3"],
    [S("Outline best-run-ending-here", "For each position, know the best sum of a run ending there; the answer is "
       "the largest of these.", """
        function max_subarray_sum(nums: non-empty list of int) -> int
            for each position i: ending_here <- best sum of a run that ends at i
            return the maximum of ending_here over all i
        """),
     R("Extend or restart", "A run ending at i either extends the best run ending at i - 1 or starts fresh at i, "
       "whichever is larger; starting from nums[0] keeps all-negative lists right.", """
        function max_subarray_sum(nums):
            ending_here <- nums[0]; best <- nums[0]
            for x in nums[1:]:
                ending_here <- max(x, ending_here + x)
                best <- max(best, ending_here)
            return best
        """),
     C("Write the Python function", "", """
        def max_subarray_sum(nums):
            ending_here = best = nums[0]
            for x in nums[1:]:
                ending_here = max(x, ending_here + x)
                best = max(best, ending_here)
            return best
        """)],
)

function_problem(
    "to_base", "train", ["math", "strings"],
    """Write an integer in a base from 2 to 16, using the digits 0-9 and then the lower-case letters a-f. A negative
    number gets a leading '-', and zero is written '0'.""",
    ['assert to_base(10, 2) == "1010"',
     'assert to_base(255, 16) == "ff"',
     'assert to_base(0, 7) == "0"',
     'assert to_base(-31, 8) == "-37"',
     'assert to_base(100, 10) == "100"'],
    [S("Outline repeated division", "Digits come out of repeated division by the base, last digit first.", """
        function to_base(n: int, base: int) -> str
            digits <- remainders of dividing abs(n) by base repeatedly
            return sign + digits in reverse order
        """),
     R("Spell out the division loop", "Each remainder indexes a table of digit symbols.", """
        function to_base(n, base):
            symbols <- "0123456789abcdef"
            digits <- empty list
            while n > 0:
                append symbols[n mod base] to digits
                n <- n div base
            return join(reversed(digits))
        """),
     R("Handle zero and the sign", "The loop produces no digit for zero, so zero is a special case; the sign is "
       "taken off first so the remainders are never negative.", """
        function to_base(n, base):
            symbols <- "0123456789abcdef"
            if n == 0: return "0"
            sign <- "-" if n < 0 else ""
            n <- abs(n); digits <- empty list
            while n > 0:
                append symbols[n mod base] to digits
                n <- n div base
            return sign + join(reversed(digits))
        """),
     C("Write the Python function", "", """
        def to_base(n, base):
            symbols = "0123456789abcdef"
            if n == 0:
                return "0"
            sign = "-" if n < 0 else ""
            n = abs(n)
            digits = []
            while n > 0:
                digits.append(symbols[n % base])
                n //= base
            return sign + "".join(reversed(digits))
        """)],
)

function_problem(
    "primes_below", "train", ["math"],
    """Return the list of all prime numbers smaller than n, in increasing order.""",
    ["assert primes_below(10) == [2, 3, 5, 7]",
     "assert primes_below(2) == []",
     "assert primes_below(0) == []",
     "assert primes_below(30) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]"],
    [S("Outline a sieve", "Cross out multiples of each prime instead of testing every number.", """
        function primes_below(n: int) -> list of int
            is_prime <- a flag for every number below n
            cross out the multiples of every prime
            return the numbers still flagged
        """),
     R("Spell out the sieve", "Every number starts as a candidate; each prime crosses out its larger "
       "multiples.", """
        function primes_below(n):
            is_prime <- list of n flags, all True; is_prime[0] <- is_prime[1] <- False
            for p from 2 to n - 1:
                if is_prime[p]:
                    for m from 2 * p to n - 1 step p: is_prime[m] <- False
            return [i for i in 0 .. n - 1 if is_prime[i]]
        """),
     R("Bound the work", "Crossing out can start at p * p, since smaller multiples have a smaller prime factor, "
       "and the outer loop can stop once p * p reaches n.", """
        function primes_below(n):
            is_prime <- list of n flags, all True; is_prime[0] <- is_prime[1] <- False
            p <- 2
            while p * p < n:
                if is_prime[p]:
                    for m from p * p to n - 1 step p: is_prime[m] <- False
                p <- p + 1
            return [i for i in 0 .. n - 1 if is_prime[i]]
        """),
     R("Guard small n", "For n below 3 there is no prime, and the flag list would be too short to clear entries 0 "
       "and 1, so return early.", """
        function primes_below(n):
            if n < 3: return empty list
            is_prime <- list of n flags, all True; is_prime[0] <- is_prime[1] <- False
            p <- 2
            while p * p < n:
                if is_prime[p]:
                    for m from p * p to n - 1 step p: is_prime[m] <- False
                p <- p + 1
            return [i for i in 0 .. n - 1 if is_prime[i]]
        """),
     C("Write the Python function", "", """
        def primes_below(n):
            if n < 3:
                return []
            is_prime = [True] * n
            is_prime[0] = is_prime[1] = False
            p = 2
            while p * p < n:
                if is_prime[p]:
                    for m in range(p * p, n, p):
                        is_prime[m] = False
                p += 1
            return [i for i in range(n) if is_prime[i]]
        """)],
)

function_problem(
    "compress_ranges", "train", ["lists", "strings"],
    """Describe a sorted list of distinct integers compactly: consecutive numbers form a range written 'first-last',
    a number on its own is written as itself, and the parts are joined with commas. For example [1, 2, 3, 5, 7, 8]
    becomes '1-3,5,7-8'.""",
    ['assert compress_ranges([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"',
     'assert compress_ranges([]) == ""',
     'assert compress_ranges([4]) == "4"',
     'assert compress_ranges([0, 1, 3, 4]) == "0-1,3-4"'],
    [S("Outline runs and formatting", "Find runs of consecutive numbers, format each, join them.", """
        function compress_ranges(nums: sorted list of distinct int) -> str
            runs <- maximal runs of consecutive numbers in nums
            return the formatted runs joined by ","

        function format_run(first, last) -> str
        """),
     R("Detect where runs break", "A run continues while the next number is one more than the previous; a run of "
       "one number has no dash.", """
        function compress_ranges(nums):
            if nums is empty: return ""
            parts <- empty list; first <- nums[0]; last <- nums[0]
            for x in nums[1:]:
                if x == last + 1: last <- x
                else:
                    append format_run(first, last) to parts
                    first <- x; last <- x
            append format_run(first, last) to parts
            return join parts with ","

        function format_run(first, last):
            return str(first) if first == last else str(first) + "-" + str(last)
        """),
     C("Write the Python functions", "", """
        def format_run(first, last):
            return str(first) if first == last else f"{first}-{last}"


        def compress_ranges(nums):
            if not nums:
                return ""
            parts = []
            first = last = nums[0]
            for x in nums[1:]:
                if x == last + 1:
                    last = x
                else:
                    parts.append(format_run(first, last))
                    first = last = x
            parts.append(format_run(first, last))
            return ",".join(parts)
        """)],
)

function_problem(
    "pascal_row", "train", ["math", "lists"],
    """Return row n of Pascal's triangle as a list, where row 0 is [1] and every other entry is the sum of the two
    entries above it.""",
    ["assert pascal_row(0) == [1]",
     "assert pascal_row(1) == [1, 1]",
     "assert pascal_row(4) == [1, 4, 6, 4, 1]",
     "assert pascal_row(6) == [1, 6, 15, 20, 15, 6, 1]"],
    [S("Outline building row by row", "Start from row 0 and derive each next row from the previous one.", """
        function pascal_row(n: int) -> list of int
            row <- [1]
            repeat n times: row <- next_row(row)
            return row

        function next_row(row: list of int) -> list of int
        """),
     R("Derive the next row", "The inner entries are sums of neighbouring pairs, framed by a 1 on each side.", """
        function next_row(row):
            inner <- [row[i] + row[i + 1] for i from 0 to length(row) - 2]
            return [1] + inner + [1]
        """),
     C("Write the Python functions", "", """
        def next_row(row):
            inner = [row[i] + row[i + 1] for i in range(len(row) - 1)]
            return [1] + inner + [1]


        def pascal_row(n):
            row = [1]
            for _ in range(n):
                row = next_row(row)
            return row
        """)],
)

# ----------------------------------------------------------------------------------------- function problems: eval

function_problem(
    "count_grid_paths", "eval", ["dynamic programming", "grids"],
    """A grid has the given numbers of rows and columns. Starting in the top-left cell you may only move right or
    down, and you may not enter a blocked cell; blocked cells are given as a list of (row, column) pairs counted
    from 0. Return the number of different paths to the bottom-right cell (0 if the start or the end is
    blocked).""",
    ["assert count_grid_paths(2, 2, []) == 2",
     "assert count_grid_paths(3, 3, [(1, 1)]) == 2",
     "assert count_grid_paths(3, 3, []) == 6",
     "assert count_grid_paths(1, 5, [(0, 2)]) == 0",
     "assert count_grid_paths(2, 2, [(0, 0)]) == 0"],
    [S("Outline counting paths per cell", "The paths into a cell come from the cell above it or the cell to its "
       "left.", """
        function count_grid_paths(rows: int, cols: int, blocked: list of (row, col)) -> int
            ways <- table with the number of paths into each cell
            fill ways row by row from the top-left
            return ways of the bottom-right cell
        """),
     R("Write the recurrence", "A path into cell (r, c) arrives from above or from the left.", """
        function count_grid_paths(rows, cols, blocked):
            ways[0][0] <- 1
            for every other cell (r, c), row by row:
                ways[r][c] <- ways[r-1][c] + ways[r][c-1]
            return ways[rows - 1][cols - 1]
        """),
     R("Add blocked cells", "A blocked cell is never entered, so it holds 0 paths and contributes nothing to its "
       "neighbours; a blocked start leaves everything at 0.", """
        function count_grid_paths(rows, cols, blocked):
            blocked_cells <- set(blocked)
            for every cell (r, c), row by row:
                if (r, c) in blocked_cells: ways[r][c] <- 0
                else if (r, c) == (0, 0): ways[r][c] <- 1
                else: ways[r][c] <- ways[r-1][c] + ways[r][c-1]
            return ways[rows - 1][cols - 1]
        """),
     R("Respect the edges", "Cells in the first row have nothing above and cells in the first column nothing to "
       "the left, so those terms count as 0.", """
        function count_grid_paths(rows, cols, blocked):
            blocked_cells <- set(blocked)
            ways <- rows x cols table of 0
            for r from 0 to rows - 1:
                for c from 0 to cols - 1:
                    if (r, c) in blocked_cells: ways[r][c] <- 0
                    else if r == 0 and c == 0: ways[r][c] <- 1
                    else: ways[r][c] <- (ways[r-1][c] if r > 0) + (ways[r][c-1] if c > 0)
            return ways[rows - 1][cols - 1]
        """),
     C("Write the Python function", "", """
        def count_grid_paths(rows, cols, blocked):
            blocked_cells = set(map(tuple, blocked))
            ways = [[0] * cols for _ in range(rows)]
            for r in range(rows):
                for c in range(cols):
                    if (r, c) in blocked_cells:
                        ways[r][c] = 0
                    elif r == 0 and c == 0:
                        ways[r][c] = 1
                    else:
                        above = ways[r - 1][c] if r > 0 else 0
                        left = ways[r][c - 1] if c > 0 else 0
                        ways[r][c] = above + left
            return ways[rows - 1][cols - 1]
        """)],
)

function_problem(
    "spiral_order", "eval", ["lists", "matrices"],
    """Return the elements of a matrix, given as a list of rows of equal length, in clockwise spiral order: start at
    the top-left corner and move right along the first row.""",
    ["assert spiral_order([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [1, 2, 3, 6, 9, 8, 7, 4, 5]",
     "assert spiral_order([]) == []",
     "assert spiral_order([[1, 2], [3, 4], [5, 6]]) == [1, 2, 4, 6, 5, 3]",
     "assert spiral_order([[1, 2, 3, 4]]) == [1, 2, 3, 4]"],
    [S("Outline peeling layers", "Walk around the outer ring, then shrink the bounds and repeat.", """
        function spiral_order(matrix: list of rows) -> list
            top, bottom, left, right <- the bounds of the matrix
            while the bounds enclose cells:
                walk the ring inside the bounds clockwise; shrink the bounds
            return the visited elements
        """),
     R("Walk the four sides", "Top row left to right, right column downwards, then bottom row and left column "
       "backwards; after each side one bound moves inwards.", """
        function spiral_order(matrix):
            if matrix is empty: return empty list
            top <- 0; bottom <- rows - 1; left <- 0; right <- cols - 1; out <- empty list
            while top <= bottom and left <= right:
                append matrix[top][left..right]; top <- top + 1
                append matrix[top..bottom][right]; right <- right - 1
                append matrix[bottom][right..left backwards]; bottom <- bottom - 1
                append matrix[bottom..top backwards][left]; left <- left + 1
            return out
        """),
     R("Stop single rows and columns from being walked twice", "When only one row or one column is left, the "
       "bottom and left walks would repeat cells, so check the bounds again before them.", """
        function spiral_order(matrix):
            ...
            while top <= bottom and left <= right:
                top row; top <- top + 1
                right column; right <- right - 1
                if top <= bottom: bottom row backwards; bottom <- bottom - 1
                if left <= right: left column upwards; left <- left + 1
            return out
        """),
     C("Write the Python function", "", """
        def spiral_order(matrix):
            if not matrix:
                return []
            out = []
            top, bottom, left, right = 0, len(matrix) - 1, 0, len(matrix[0]) - 1
            while top <= bottom and left <= right:
                for c in range(left, right + 1):
                    out.append(matrix[top][c])
                top += 1
                for r in range(top, bottom + 1):
                    out.append(matrix[r][right])
                right -= 1
                if top <= bottom:
                    for c in range(right, left - 1, -1):
                        out.append(matrix[bottom][c])
                    bottom -= 1
                if left <= right:
                    for r in range(bottom, top - 1, -1):
                        out.append(matrix[r][left])
                    left += 1
            return out
        """)],
)

function_problem(
    "count_pairs_with_sum", "eval", ["lists", "dicts"],
    """Count the pairs of positions i < j in a list of integers whose values add up to a given target.""",
    ["assert count_pairs_with_sum([1, 5, 7, -1, 5], 6) == 3",
     "assert count_pairs_with_sum([], 4) == 0",
     "assert count_pairs_with_sum([2, 2, 2], 4) == 3",
     "assert count_pairs_with_sum([1, 2, 3], 10) == 0"],
    [S("Outline counting partners", "Each element pairs with the earlier elements that complete the target.", """
        function count_pairs_with_sum(nums: list of int, target: int) -> int
            for each position j: count the earlier positions i whose value is target - nums[j]
            return the total
        """),
     R("Count earlier values in a dictionary", "Remembering how often each value has appeared so far answers "
       "'how many earlier partners' in constant time, so the whole count is one pass; equal values pair up "
       "correctly because each is added only after it has been matched.", """
        function count_pairs_with_sum(nums, target):
            seen <- empty dictionary of value -> count; pairs <- 0
            for x in nums:
                pairs <- pairs + seen.get(target - x, 0)
                seen[x] <- seen.get(x, 0) + 1
            return pairs
        """),
     C("Write the Python function", "", """
        def count_pairs_with_sum(nums, target):
            seen = {}
            pairs = 0
            for x in nums:
                pairs += seen.get(target - x, 0)
                seen[x] = seen.get(x, 0) + 1
            return pairs
        """)],
)

function_problem(
    "parse_key_values", "eval", ["parsing", "strings", "dicts"],
    """Parse settings written as 'key=value' parts separated by semicolons, such as 'width=10; name = box;'. Spaces
    around keys and values are ignored, empty parts and parts without '=' are skipped, a value made only of digits
    (optionally after a '-') becomes an int, and any other value stays a string. Return a dictionary; when a key
    repeats, the last value wins.""",
    ['assert parse_key_values("width=10; name = box;") == {"width": 10, "name": "box"}',
     'assert parse_key_values("") == {}',
     'assert parse_key_values("a=1;a=-2;;b=x y") == {"a": -2, "b": "x y"}',
     'assert parse_key_values("k=007") == {"k": 7}',
     'assert parse_key_values("flag; n=3") == {"n": 3}'],
    [S("Outline the parser", "Split into parts, split each part into key and value, convert the value.", """
        function parse_key_values(text: str) -> dict
            for each part of text split on ";":
                if it holds a key and a value: result[key] <- convert(value)
            return result

        function convert(value: str) -> int or str
        """),
     R("Split on the first '=' and decide the type", "Splitting at the first '=' lets values contain '='; a value "
       "is an int when it matches an optional '-' followed by digits.", """
        function parse_key_values(text):
            result <- empty dictionary
            for part in split(text, ";"):
                if "=" not in part: continue
                key, value <- part split at the first "="
                result[strip(key)] <- convert(strip(value))
            return result

        function convert(value):
            if value matches -?digits+: return int(value)
            return value
        """),
     C("Write the Python functions", "", """
        import re


        def convert(value):
            if re.fullmatch(r"-?[0-9]+", value):
                return int(value)
            return value


        def parse_key_values(text):
            result = {}
            for part in text.split(";"):
                if "=" not in part:
                    continue
                key, value = part.split("=", 1)
                result[key.strip()] = convert(value.strip())
            return result
        """)],
)

function_problem(
    "edit_distance", "eval", ["dynamic programming", "strings"],
    """Return the smallest number of single-character insertions, deletions and substitutions that turn one string
    into another.""",
    ['assert edit_distance("kitten", "sitting") == 3',
     'assert edit_distance("", "abc") == 3',
     'assert edit_distance("same", "same") == 0',
     'assert edit_distance("flaw", "lawn") == 2'],
    [S("Outline a table over prefixes", "The distance between two strings follows from the distances between their "
       "prefixes.", """
        function edit_distance(a: str, b: str) -> int
            dist[i][j] <- edit distance between a[:i] and b[:j]
            fill dist for all prefixes
            return dist[length(a)][length(b)]
        """),
     R("Write the recurrence", "An empty prefix needs as many edits as the other prefix is long; otherwise the last "
       "characters are matched (free when equal), or one of them is deleted or inserted.", """
        function edit_distance(a, b):
            dist[i][0] <- i; dist[0][j] <- j
            for i from 1 to length(a):
                for j from 1 to length(b):
                    cost <- 0 if a[i-1] == b[j-1] else 1
                    dist[i][j] <- min(dist[i-1][j] + 1, dist[i][j-1] + 1, dist[i-1][j-1] + cost)
            return dist[length(a)][length(b)]
        """),
     R("Keep only one previous row", "Each row needs only the row above it, so two lists of length(b) + 1 are "
       "enough.", """
        function edit_distance(a, b):
            previous <- [0, 1, ..., length(b)]
            for i from 1 to length(a):
                current <- [i]
                for j from 1 to length(b):
                    cost <- 0 if a[i-1] == b[j-1] else 1
                    append min(previous[j] + 1, current[j-1] + 1, previous[j-1] + cost) to current
                previous <- current
            return previous[length(b)]
        """),
     C("Write the Python function", "", """
        def edit_distance(a, b):
            previous = list(range(len(b) + 1))
            for i in range(1, len(a) + 1):
                current = [i]
                for j in range(1, len(b) + 1):
                    cost = 0 if a[i - 1] == b[j - 1] else 1
                    current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
                previous = current
            return previous[len(b)]
        """)],
)

function_problem(
    "longest_common_prefix", "eval", ["strings"],
    """Return the longest string that every word of a list starts with. For an empty list, return the empty
    string.""",
    ['assert longest_common_prefix(["flower", "flow", "flight"]) == "fl"',
     "assert longest_common_prefix([]) == ''",
     'assert longest_common_prefix(["dog", "racecar"]) == ""',
     'assert longest_common_prefix(["same"]) == "same"',
     'assert longest_common_prefix(["ab", "a", "abc"]) == "a"'],
    [S("Outline shrinking a candidate", "Start from the first word and shorten it until every word starts with "
       "it.", """
        function longest_common_prefix(words: list of str) -> str
            prefix <- the first word
            for each other word: shorten prefix until word starts with it
            return prefix
        """),
     R("Spell out the shortening", "Dropping the last character until the word matches always ends, at the latest "
       "with the empty string; an empty list returns early.", """
        function longest_common_prefix(words):
            if words is empty: return ""
            prefix <- words[0]
            for word in words[1:]:
                while word does not start with prefix:
                    prefix <- prefix without its last character
            return prefix
        """),
     C("Write the Python function", "", """
        def longest_common_prefix(words):
            if not words:
                return ""
            prefix = words[0]
            for word in words[1:]:
                while not word.startswith(prefix):
                    prefix = prefix[:-1]
            return prefix
        """)],
)

function_problem(
    "count_islands", "eval", ["grids", "graphs"],
    """A map is a list of strings of equal length in which '#' is land and '.' is water. Land cells that touch
    horizontally or vertically belong to the same island. Return the number of islands.""",
    ['assert count_islands(["##..", "#..#", "...#"]) == 2',
     "assert count_islands([]) == 0",
     'assert count_islands(["#.#", ".#.", "#.#"]) == 5',
     'assert count_islands(["...."]) == 0'],
    [S("Outline flood filling", "Each unvisited land cell starts a new island; flooding it marks the whole "
       "island.", """
        function count_islands(grid: list of str) -> int
            visited <- empty set; islands <- 0
            for each land cell not yet visited:
                islands <- islands + 1
                flood(grid, cell, visited)
            return islands

        function flood(grid, start, visited)
        """),
     R("Flood with an explicit stack", "A stack instead of recursion cannot hit the recursion limit on a large "
       "island; a neighbour is followed when it is inside the grid, land, and not visited.", """
        function flood(grid, start, visited):
            stack <- [start]; add start to visited
            while stack is not empty:
                (r, c) <- pop(stack)
                for (nr, nc) in the four neighbours of (r, c):
                    if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] == "#" and (nr, nc) not in visited:
                        add (nr, nc) to visited; push (nr, nc)
        """),
     C("Write the Python functions", "", """
        def flood(grid, start, visited):
            rows, cols = len(grid), len(grid[0])
            stack = [start]
            visited.add(start)
            while stack:
                r, c = stack.pop()
                for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                    if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] == "#" and (nr, nc) not in visited:
                        visited.add((nr, nc))
                        stack.append((nr, nc))


        def count_islands(grid):
            visited = set()
            islands = 0
            for r, row in enumerate(grid):
                for c, cell in enumerate(row):
                    if cell == "#" and (r, c) not in visited:
                        islands += 1
                        flood(grid, (r, c), visited)
            return islands
        """)],
)

function_problem(
    "minutes_between", "eval", ["parsing", "math"],
    """Given two clock times 'HH:MM' in 24-hour format, return how many minutes pass from the first to the second.
    If the second time is earlier than the first, it is on the next day; equal times give 0.""",
    ['assert minutes_between("09:15", "10:00") == 45',
     'assert minutes_between("23:30", "00:15") == 45',
     'assert minutes_between("12:00", "12:00") == 0',
     'assert minutes_between("00:00", "23:59") == 1439'],
    [S("Outline via minutes since midnight", "Convert both times to minutes since midnight and subtract.", """
        function minutes_between(start: str, end: str) -> int
            return difference of to_minutes(end) and to_minutes(start), wrapping past midnight

        function to_minutes(clock: str) -> int
        """),
     R("Parse and wrap", "Hours and minutes are the two sides of the ':'; taking the difference mod 1440 wraps a "
       "negative difference into the next day and leaves equal times at 0.", """
        function to_minutes(clock):
            hours, minutes <- the integers on each side of ":"
            return hours * 60 + minutes

        function minutes_between(start, end):
            return (to_minutes(end) - to_minutes(start)) mod 1440
        """),
     C("Write the Python functions", "", """
        def to_minutes(clock):
            hours, minutes = clock.split(":")
            return int(hours) * 60 + int(minutes)


        def minutes_between(start, end):
            return (to_minutes(end) - to_minutes(start)) % 1440
        """)],
)

function_problem(
    "is_valid_isbn10", "eval", ["strings", "parsing"],
    """An ISBN-10 code has ten characters once its hyphens are removed: nine digits and a last character that is a
    digit or 'X', which stands for 10. It is valid when the sum of each character's value times its weight (10 for
    the first character, 9 for the second, down to 1 for the last) is divisible by 11. Return True for a valid
    code and False otherwise, including codes of the wrong length or with other characters.""",
    ['assert is_valid_isbn10("0-306-40615-2") is True',
     'assert is_valid_isbn10("0-306-40615-3") is False',
     'assert is_valid_isbn10("080442957X") is True',
     'assert is_valid_isbn10("12345") is False',
     'assert is_valid_isbn10("X123456789") is False'],
    [S("Outline clean, check shape, checksum", "Remove hyphens, reject malformed codes, then test the weighted "
       "sum.", """
        function is_valid_isbn10(code: str) -> bool
            chars <- code without hyphens
            if chars does not have the ISBN-10 shape: return False
            return weighted_sum(chars) mod 11 == 0

        function weighted_sum(chars: str) -> int
        """),
     R("Define the shape", "The shape is ten characters, the first nine digits and the last a digit or X; "
       "checking it first means the sum never meets an unexpected character.", """
        function is_valid_isbn10(code):
            chars <- code with "-" removed
            if length(chars) != 10: return False
            if not all of chars[0..8] are digits: return False
            if chars[9] is not a digit and chars[9] != "X": return False
            return weighted_sum(chars) mod 11 == 0
        """),
     R("Define the weighted sum", "Weights run from 10 down to 1, so the character at index i has weight 10 - i; X "
       "can only be last, where it counts as 10.", """
        function weighted_sum(chars):
            total <- 0
            for i, ch in chars:
                value <- 10 if ch == "X" else int(ch)
                total <- total + value * (10 - i)
            return total
        """),
     C("Write the Python functions", "", """
        def weighted_sum(chars):
            total = 0
            for i, ch in enumerate(chars):
                value = 10 if ch == "X" else int(ch)
                total += value * (10 - i)
            return total


        def is_valid_isbn10(code):
            chars = code.replace("-", "")
            if len(chars) != 10:
                return False
            if not all(ch in "0123456789" for ch in chars[:9]):
                return False
            if chars[9] not in "0123456789X":
                return False
            return weighted_sum(chars) % 11 == 0
        """)],
)

# ======================================================================================== stdin/stdout problems

stdio_problem(
    "sum_of_evens", "train", ["parsing input", "math"],
    """The first line of the input holds an integer n and the second line n integers separated by spaces. Print the
    sum of the even integers, or 0 if there are none.""",
    [("5\n1 2 3 4 5\n", "6\n"), ("3\n1 3 5\n", "0\n"), ("4\n-2 -4 7 10\n", "4\n"), ("0\n\n", "0\n")],
    [S("Outline read, sum, print", "Read the numbers, add up the even ones, print the total.", """
        program:
            nums <- read n, then n integers
            print sum_of_evens(nums)

        function sum_of_evens(nums: list of int) -> int
        """),
     R("Read tokens instead of lines", "Reading all whitespace-separated tokens copes with an empty second line when "
       "n is 0; x mod 2 == 0 holds for negative even numbers too.", """
        program:
            tokens <- all tokens of stdin
            n <- int(tokens[0]); nums <- integers of tokens[1 .. n]
            print sum_of_evens(nums)

        function sum_of_evens(nums):
            return sum of x in nums where x mod 2 == 0
        """),
     C("Write the program", "", """
        import sys


        def sum_of_evens(nums):
            return sum(x for x in nums if x % 2 == 0)


        def main():
            tokens = sys.stdin.read().split()
            n = int(tokens[0])
            nums = [int(t) for t in tokens[1:1 + n]]
            print(sum_of_evens(nums))


        main()
        """)],
)

stdio_problem(
    "grade_report", "train", ["parsing input", "sorting"],
    """The first line of the input holds n; then n lines follow, each with a student's name and an integer score
    separated by a space. Print two lines: the name of the student with the highest score (on a tie, the
    alphabetically first name), then the average score with exactly two decimals.""",
    [("3\nana 90\nben 85\ncid 90\n", "ana\n88.33\n"), ("1\nzoe 70\n", "zoe\n70.00\n"),
     ("2\nbo 50\nal 51\n", "al\n50.50\n")],
    [S("Outline read, pick, average", "Read the records, choose the top student, compute the average.", """
        program:
            records <- read n lines of (name, score)
            print best_student(records)
            print the average score with two decimals

        function best_student(records) -> name
        """),
     R("Break ties with the sort key", "The best student minimises (-score, name): highest score first, then "
       "alphabetical; the average is printed with a fixed two-decimal format.", """
        function best_student(records):
            return the name of the record with the smallest (-score, name)

        program:
            lines <- lines of stdin; n <- int(lines[0])
            records <- for each of the next n lines: (name, int(score))
            print best_student(records)
            print format(sum of scores / n, two decimals)
        """),
     C("Write the program", "", """
        import sys


        def best_student(records):
            return min(records, key=lambda record: (-record[1], record[0]))[0]


        def main():
            lines = sys.stdin.read().split("\\n")
            n = int(lines[0])
            records = []
            for line in lines[1:1 + n]:
                name, score = line.split()
                records.append((name, int(score)))
            print(best_student(records))
            average = sum(score for _, score in records) / n
            print(f"{average:.2f}")


        main()
        """)],
)

stdio_problem(
    "matrix_sums", "train", ["parsing input", "matrices"],
    """The first line of the input holds two integers r and c, and each of the next r lines holds c integers.
    Print r lines with the sum of each row, then one line with the c column sums separated by spaces.""",
    [("2 3\n1 2 3\n4 5 6\n", "6\n15\n5 7 9\n"), ("1 1\n-4\n", "-4\n-4\n"),
     ("3 2\n1 1\n2 2\n3 3\n", "2\n4\n6\n6 6\n")],
    [S("Outline read and two kinds of sums", "Read the matrix, then print row sums and column sums.", """
        program:
            matrix <- read r rows of c integers
            print the sum of each row, one per line
            print the column sums on one line
        """),
     R("Read by tokens and index columns", "All numbers arrive as one token stream, so row i is the slice of c "
       "tokens after the first two; column j sums matrix[i][j] over all rows.", """
        program:
            tokens <- integers of stdin; r, c <- tokens[0], tokens[1]
            matrix <- [tokens[2 + i*c .. 2 + i*c + c - 1] for i from 0 to r - 1]
            for row in matrix: print sum(row)
            print join of (sum of matrix[i][j] over i) for j from 0 to c - 1, with spaces
        """),
     C("Write the program", "", """
        import sys


        def main():
            tokens = [int(t) for t in sys.stdin.read().split()]
            r, c = tokens[0], tokens[1]
            matrix = [tokens[2 + i * c: 2 + i * c + c] for i in range(r)]
            for row in matrix:
                print(sum(row))
            print(" ".join(str(sum(row[j] for row in matrix)) for j in range(c)))


        main()
        """)],
)

stdio_problem(
    "reverse_words_lines", "train", ["strings", "parsing input"],
    """The first line of the input holds q. Each of the next q lines is a sentence: print each sentence with the
    order of its words reversed, the words separated by single spaces.""",
    [("2\nhello big world\none\n", "world big hello\none\n"), ("1\n  spaced   out  \n", "out spaced\n"),
     ("3\na b\nc d e\nf\n", "b a\ne d c\nf\n")],
    [S("Outline line by line", "Each sentence is handled on its own, so read lines rather than tokens.", """
        program:
            q <- first line
            for each of the next q lines: print reverse_words(line)

        function reverse_words(line: str) -> str
        """),
     R("Normalise the spacing", "Splitting on whitespace drops leading, trailing and repeated spaces; joining the "
       "reversed words with one space gives the required output.", """
        function reverse_words(line):
            words <- split line on whitespace
            return join reversed(words) with " "

        program:
            lines <- stdin split into lines; q <- int(lines[0])
            for line in lines[1 .. q]: print reverse_words(line)
        """),
     C("Write the program", "", """
        import sys


        def reverse_words(line):
            return " ".join(reversed(line.split()))


        def main():
            lines = sys.stdin.read().split("\\n")
            q = int(lines[0])
            for line in lines[1:1 + q]:
                print(reverse_words(line))


        main()
        """)],
)

stdio_problem(
    "ping_pong", "train", ["math"],
    """Read two integers a and b (a <= b) from one line. For every integer from a to b inclusive print one line:
    'PingPong' if it is divisible by both 3 and 7, 'Ping' if it is divisible by 3 only, 'Pong' if it is divisible
    by 7 only, and the number itself otherwise.""",
    [("5 7\n", "5\nPing\nPong\n"), ("20 22\n", "20\nPingPong\n22\n"), ("0 0\n", "PingPong\n"),
     ("-3 -1\n", "Ping\n-2\n-1\n")],
    [S("Outline the loop", "Label each number in the range and print it.", """
        program:
            a, b <- the two integers of the input
            for x from a to b: print label(x)

        function label(x: int) -> str
        """),
     R("Order the divisibility tests", "Testing divisibility by both first keeps 21 from being labelled Ping; Python's "
       "mod makes negative multiples of 3 and 7 divisible as well.", """
        function label(x):
            if x mod 3 == 0 and x mod 7 == 0: return "PingPong"
            if x mod 3 == 0: return "Ping"
            if x mod 7 == 0: return "Pong"
            return str(x)
        """),
     C("Write the program", "", """
        def label(x):
            if x % 3 == 0 and x % 7 == 0:
                return "PingPong"
            if x % 3 == 0:
                return "Ping"
            if x % 7 == 0:
                return "Pong"
            return str(x)


        a, b = map(int, input().split())
        for x in range(a, b + 1):
            print(label(x))
        """)],
)

stdio_problem(
    "bank_account", "train", ["simulation", "parsing input"],
    """The first line of the input holds a starting balance, an integer. Each following line is either
    'deposit X' or 'withdraw X' with a positive integer X. A withdrawal larger than the current balance is refused
    and leaves the balance unchanged. Print the final balance and, on a second line, the number of refused
    withdrawals.""",
    [("100\ndeposit 50\nwithdraw 120\nwithdraw 40\n", "30\n1\n"), ("0\nwithdraw 1\n", "0\n1\n"),
     ("10\n", "10\n0\n"), ("5\ndeposit 5\nwithdraw 10\n", "0\n0\n")],
    [S("Outline the simulation", "Apply the operations in order, counting refusals.", """
        program:
            balance <- first line
            refused <- 0
            for each operation line: apply it to balance, counting refusals
            print balance, then refused
        """),
     R("Apply one operation", "A withdrawal equal to the balance is allowed; only a larger one is refused. Blank "
       "lines at the end of the input are skipped.", """
        program:
            lines <- non-empty lines of stdin
            balance <- int(lines[0]); refused <- 0
            for line in lines[1:]:
                kind, amount <- the two words of line; amount <- int(amount)
                if kind == "deposit": balance <- balance + amount
                else if amount > balance: refused <- refused + 1
                else: balance <- balance - amount
            print balance; print refused
        """),
     C("Write the program", "", """
        import sys


        def main():
            lines = [line for line in sys.stdin.read().split("\\n") if line.strip()]
            balance = int(lines[0])
            refused = 0
            for line in lines[1:]:
                kind, amount = line.split()
                amount = int(amount)
                if kind == "deposit":
                    balance += amount
                elif amount > balance:
                    refused += 1
                else:
                    balance -= amount
            print(balance)
            print(refused)


        main()
        """)],
)

# ------------------------------------------------------------------------------------ stdin/stdout problems: eval

stdio_problem(
    "range_sum_queries", "eval", ["prefix sums", "parsing input"],
    """The first line of the input holds n and the second line n integers. The third line holds q, and each of the
    next q lines holds two positions l and r (counted from 1, with l <= r). For each query print the sum of the
    elements from position l to position r inclusive.""",
    [("5\n1 2 3 4 5\n3\n1 5\n2 3\n4 4\n", "15\n5\n4\n"), ("1\n-7\n1\n1 1\n", "-7\n"),
     ("4\n10 -10 10 -10\n2\n1 2\n1 3\n", "0\n10\n")],
    [S("Outline prefix sums", "Precompute running totals once so every query is a subtraction.", """
        program:
            nums <- read n integers; queries <- read q pairs (l, r)
            prefix <- prefix_sums(nums)
            for each query: print the sum from l to r using prefix

        function prefix_sums(nums) -> list of int
        """),
     R("Index the prefix sums", "prefix[i] is the sum of the first i numbers, so the 1-based range l..r sums to "
       "prefix[r] - prefix[l - 1].", """
        function prefix_sums(nums):
            prefix <- [0]
            for x in nums: append last(prefix) + x to prefix
            return prefix

        answer(l, r) = prefix[r] - prefix[l - 1]
        """),
     R("Read the queries from one token stream", "After the n numbers comes q, then the pairs two tokens at a "
       "time, so every position is computed from n.", """
        program:
            tokens <- integers of stdin
            n <- tokens[0]; nums <- tokens[1 .. n]; q <- tokens[n + 1]
            for k from 0 to q - 1:
                l, r <- tokens[n + 2 + 2k], tokens[n + 3 + 2k]
                print prefix[r] - prefix[l - 1]
        """),
     C("Write the program", "", """
        import sys


        def prefix_sums(nums):
            prefix = [0]
            for x in nums:
                prefix.append(prefix[-1] + x)
            return prefix


        def main():
            tokens = [int(t) for t in sys.stdin.read().split()]
            n = tokens[0]
            prefix = prefix_sums(tokens[1:1 + n])
            q = tokens[n + 1]
            out = []
            for k in range(q):
                l, r = tokens[n + 2 + 2 * k], tokens[n + 3 + 2 * k]
                out.append(str(prefix[r] - prefix[l - 1]))
            print("\\n".join(out))


        main()
        """)],
)

stdio_problem(
    "longest_word", "eval", ["strings"],
    """Read one line of text and print its longest word and the word's length, separated by a space; words are
    separated by whitespace. If several words share the longest length, print the first of them. If the line has no
    words, print 'NONE 0'.""",
    [("the quick brown fox\n", "quick 5\n"), ("a bb cc\n", "bb 2\n"), ("   \n", "NONE 0\n"),
     ("supercalifragilistic\n", "supercalifragilistic 20\n")],
    [S("Outline the search", "Split the line into words and keep the longest.", """
        program:
            words <- the words of the input line
            print longest(words) and its length, or NONE 0 when there are no words
        """),
     R("Keep the first of equal lengths", "Replacing the best word only on a strictly longer word keeps the first "
       "one among ties; an empty line gives no words.", """
        program:
            words <- split(read line)
            if words is empty: print "NONE 0"; stop
            best <- words[0]
            for w in words[1:]:
                if length(w) > length(best): best <- w
            print best, length(best)
        """),
     C("Write the program", "", """
        import sys


        def main():
            words = sys.stdin.readline().split()
            if not words:
                print("NONE 0")
                return
            best = words[0]
            for w in words[1:]:
                if len(w) > len(best):
                    best = w
            print(best, len(best))


        main()
        """)],
)

stdio_problem(
    "digit_histogram", "eval", ["strings", "dicts"],
    """Read a line that may contain any characters. For every decimal digit that occurs in it, print a line 'd: k'
    where k is how many times the digit d occurs, in increasing order of d. If the line has no digits, print
    'no digits'.""",
    [("a1b22c333\n", "1: 1\n2: 2\n3: 3\n"), ("no numbers here\n", "no digits\n"), ("9 0 9\n", "0: 1\n9: 2\n")],
    [S("Outline count then report", "Count each digit, then print the digits that occurred in order.", """
        program:
            counts <- count of each digit 0-9 in the line
            if no digit occurred: print "no digits"
            else: for each digit in increasing order with a count: print "d: count"
        """),
     R("Count into ten slots", "Ten counters indexed by the digit value give increasing order for free; only the "
       "characters 0-9 count as digits.", """
        program:
            line <- read line
            counts <- ten zeros
            for ch in line:
                if ch in "0123456789": counts[int(ch)] <- counts[int(ch)] + 1
            if sum(counts) == 0: print "no digits"
            else:
                for d from 0 to 9:
                    if counts[d] > 0: print d + ": " + counts[d]
        """),
     C("Write the program", "", """
        import sys


        def main():
            line = sys.stdin.readline()
            counts = [0] * 10
            for ch in line:
                if ch in "0123456789":
                    counts[int(ch)] += 1
            if sum(counts) == 0:
                print("no digits")
                return
            for d in range(10):
                if counts[d] > 0:
                    print(f"{d}: {counts[d]}")


        main()
        """)],
)

stdio_problem(
    "biggest_rise", "eval", ["lists", "parsing input"],
    """The first line of the input holds n; the second line holds n integers, the price of a stock on n consecutive
    days numbered from 1. Print the largest increase from one day to the next and the number of the later day,
    separated by a space; if several days share the largest increase, give the earliest. If the price never
    increases from one day to the next, print 'NO RISE'.""",
    [("5\n3 8 2 7 4\n", "5 2\n"), ("3\n9 5 1\n", "NO RISE\n"), ("1\n4\n", "NO RISE\n"), ("4\n1 2 4 7\n", "3 4\n")],
    [S("Outline the scan over neighbours", "Compare each day with the day before and remember the best rise.", """
        program:
            prices <- read n integers
            best_rise, best_day <- largest positive day-to-day change and its day
            print them, or NO RISE when no change is positive
        """),
     R("Keep the earliest best rise", "Only a strictly larger rise replaces the best, so the earliest day wins a "
       "tie; starting the best at 0 makes falls and flat days count as no rise.", """
        program:
            tokens <- integers of stdin; n <- tokens[0]; prices <- tokens[1 .. n]
            best_rise <- 0; best_day <- 0
            for i from 1 to n - 1:
                rise <- prices[i] - prices[i - 1]
                if rise > best_rise: best_rise <- rise; best_day <- i + 1
            if best_rise == 0: print "NO RISE"
            else: print best_rise, best_day
        """),
     C("Write the program", "", """
        import sys


        def main():
            tokens = [int(t) for t in sys.stdin.read().split()]
            n = tokens[0]
            prices = tokens[1:1 + n]
            best_rise, best_day = 0, 0
            for i in range(1, n):
                rise = prices[i] - prices[i - 1]
                if rise > best_rise:
                    best_rise, best_day = rise, i + 1
            if best_rise == 0:
                print("NO RISE")
            else:
                print(best_rise, best_day)


        main()
        """)],
)


# ================================================================================================== writing


def build() -> dict[str, list[Problem]]:
    """The bundled problems by split, in definition order."""
    by_split: dict[str, list[Problem]] = {split: [] for split in SPLITS}
    for problem in _PROBLEMS:
        by_split[problem.metadata["split"]].append(problem)
    return by_split


def render_jsonl(problems: list[Problem]) -> str:
    """One JSON object per line, exactly as Problem.to_dict writes it."""
    return "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in problems)


def main(out_dir: Path = HERE) -> None:
    for split, problems in build().items():
        path = Path(out_dir) / f"{split}.jsonl"
        path.write_text(render_jsonl(problems), encoding="utf-8")
        print(f"wrote {len(problems)} problems to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
