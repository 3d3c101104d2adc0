"""Digests of large results: equal values digest equal, different values differently, and no subclass can lie.

The fast path (a canonical pickle of exact builtin types) and the general path (a walk through the base types'
methods) must agree with the comparison the tests define: exact type and content, as ``plain.equal`` says of
digests. These tests build values on both sides of that line, many of them larger than one chunk of the fast path.
"""

from __future__ import annotations

import collections
import enum
import itertools
import random

import pytest

from o1coder.execution import plain

CHUNK = plain._CHUNK


def digest(value) -> str:
    return plain.digest(value).hexdigest


def random_leaf(rng: random.Random):
    return rng.choice([
        lambda: rng.randint(-300, 300),
        lambda: rng.randint(-2 ** 80, 2 ** 80),
        lambda: rng.choice(["", "a", "}", "Dog", "é", "ю", "\udc80", "G\x80"]) * rng.randint(0, 3),
        lambda: bytes(rng.randrange(256) for _ in range(rng.randint(0, 4))),
        lambda: rng.choice([True, False, None]),
        lambda: rng.choice([0.0, -0.0, 1.5, -2.25, 1e300, float("inf")]),
    ])()


def random_value(rng: random.Random, depth: int = 0):
    if depth >= 3 or rng.random() < 0.45:
        return random_leaf(rng)
    n = rng.randint(0, 5)
    kind = rng.choice(["list", "tuple", "tuple", "dict", "set"] if depth else ["list", "tuple"])
    if kind == "dict":
        return {rng.choice([rng.randint(0, 9), str(rng.randint(0, 9))]): random_value(rng, depth + 1)
                for _ in range(n)}
    if kind == "set":
        return {rng.randint(0, 50) for _ in range(n)} | {rng.choice(["x", "y", "z"])}
    items = [random_value(rng, depth + 1) for _ in range(n)]
    return items if kind == "list" else tuple(items)


def rebuilt(value, rng: random.Random):
    """An equal value made of other objects: fresh strings and ints, zeros of the other sign, dicts and sets filled
    in another order."""
    t = type(value)
    if t is str:
        return "".join(list(value))
    if t is int:
        return int(str(value))
    if t is float:
        return -value if value == 0 else float(repr(value))
    if t is bytes:
        return bytes(bytearray(value))
    if t in (list, tuple):
        items = [rebuilt(x, rng) for x in value]
        return items if t is list else tuple(items)
    if t is dict:
        keys = list(value)
        rng.shuffle(keys)
        return {rebuilt(k, rng): rebuilt(value[k], rng) for k in keys}
    if t is set:
        items = list(value)
        rng.shuffle(items)
        return set(items)
    return value


def test_equal_values_digest_equal_whatever_their_identity_order_or_zero_sign():
    rng = random.Random(18)
    for size in (1, 7, CHUNK + 3, 2 * CHUNK + 1):
        value = [random_value(rng) for _ in range(size)]
        copy = rebuilt(value, rng)
        assert copy == value
        assert digest(copy) == digest(value)
        assert plain.equal(plain.digest(value), copy) and plain.equal(copy, plain.digest(value))


def test_the_cases_pickle_alone_would_get_wrong():
    shared = [1, "a"]
    assert digest([shared, shared]) == digest([[1, "a"], [1, "a"]])  # no back-references: identity is no content
    assert digest([0.0, (1, -0.0)]) == digest([-0.0, (1, 0.0)])
    assert digest([{"a": 1, "b": 2}]) == digest([{"b": 2, "a": 1}])  # dict order
    assert digest([{1, 2, 3}, frozenset("abc")]) == digest([{3, 2, 1}, frozenset("cba")])  # set order
    nan = float("nan")
    assert digest([nan]) == digest([float("nan")])  # one NaN digest, as the general path (== would say unequal)


def different_leaf(leaf):
    """A leaf that differs from ``leaf`` in value or in type only (exact comparison: 1 is not True or 1.0)."""
    t = type(leaf)
    if leaf is None:
        return False
    if t is bool:
        return int(leaf)
    if t is int:
        return float(leaf) if abs(leaf) < 2 ** 50 else leaf + 1
    if t is float:
        return leaf / 2 + 1.0 if abs(leaf) != float("inf") else 0.0
    if t is str:
        return leaf.encode("utf-8", "surrogatepass")
    if t is bytes:
        return leaf + b"\0"
    return None


def test_different_values_digest_differently():
    rng = random.Random(81)
    value = [random_value(rng) for _ in range(CHUNK + 10)]
    base = digest(value)
    changed = 0
    for index in rng.sample(range(len(value)), 60):
        item = value[index]
        if type(item) in (list, tuple):
            replacement = list(item) if type(item) is tuple else tuple(item)  # same items, other sequence type
        else:
            replacement = different_leaf(item)
        other = value[:index] + [replacement] + value[index + 1:]
        assert digest(other) != base, (item, replacement)
        changed += 1
    assert changed == 60
    assert digest(value[:-1]) != base and digest(value + [None]) != base
    assert digest([(1, "a")] * 3) != digest([[1, "a"]] * 3)
    assert digest(["ab", "c"]) != digest(["a", "bc"]) and digest([b"a"]) != digest(["a"])
    assert digest([True]) != digest([1]) != digest([1.0])


def test_builtin_subclasses_digest_as_the_values_they_hold():
    point = collections.namedtuple("Point", "x y")

    class Level(enum.IntEnum):
        HIGH = 3

    honest = [(1, 2)] * (CHUNK + 1) + [3, {"a": [1]}, "s"]
    dressed = [point(1, 2)] * (CHUNK + 1) + [Level.HIGH, collections.defaultdict(list, a=[1]),
                                             type("S", (str,), {})("s")]
    assert digest(dressed) == digest(honest)
    assert digest(collections.Counter("aab")) == digest({"a": 2, "b": 1})


class LyingStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__

    def __reduce_ex__(self, protocol):
        return (str, ("what the test expects",))


class LyingList(list):
    def __eq__(self, other):
        return True

    __hash__ = None

    def __iter__(self):
        return iter(["what the test expects"])

    def __reduce_ex__(self, protocol):
        return (list, (["what the test expects"],))


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__

    def __index__(self):
        return 7


@pytest.mark.parametrize("liar, honest", [
    (LyingStr("wrong"), "wrong"),
    (LyingList(["wrong"]), ["wrong"]),
    (LyingInt(5), 5),
])
def test_hostile_subclasses_never_pass(liar, honest):
    for size in (1, CHUNK + 1):
        claimed = digest(["what the test expects"] * size if not isinstance(liar, LyingInt) else [7] * size)
        lying = digest([liar] * size)
        assert lying != claimed
        assert lying == digest([honest] * size)  # read through the base type: what it really holds


def test_fast_path_takes_the_common_large_results():
    colours = list(itertools.combinations_with_replacement(["Red", "Green", "Blue"], 12))
    for value in (colours * 40, list(range(100_000)), [[i, -i, str(i)] for i in range(50_000)],
                  [0.5 * i for i in range(10_000)]):
        fast = plain._fast_digest(value)
        assert fast is not None and fast.parts >= len(value)
    for value in ([{1: 2}] * 10, [{1, 2}], [1j], [range(3)]):
        assert plain._fast_digest(value) is None  # order-free or not picklable here: the general path
    cyclic = [1]
    cyclic.append([cyclic])
    with pytest.raises(plain.Unrepresentable):
        plain.digest(cyclic)
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert plain.digest(deep) == plain.digest(rebuilt_deep(5000))


def rebuilt_deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value
