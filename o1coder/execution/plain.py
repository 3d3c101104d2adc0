"""Plain data: the only values that cross the sandbox boundary.

A candidate's return value is turned into a tree of builtin types (int, float, str, bytes, bool, None, complex,
list, tuple, dict, set, frozenset) by reading it through the *base* type's own methods, so an object that overrides
``__eq__``, ``__iter__`` or ``__bool__`` cannot steer the comparison: it either becomes an honest plain copy or is
rejected as unrepresentable. The tagged JSON form is what travels between processes and what our own files store
(JSON alone cannot tell a tuple from a list or hold ``inf``).

This module is imported by the sandbox worker as a top-level module, so it must stay stdlib-only.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import io
import math
import pickle
import struct

# In the sandbox's test process a candidate may patch the `builtins` module (`builtins.list = ...`): this module's
# functions look their builtins up in a private copy instead, taken at import, before any candidate code ran.
__builtins__ = dict(builtins.__dict__)  # noqa: A001

MAX_DEPTH = 200
MAX_NODES = 1_000_000

_TAG = "__t"


class Unrepresentable(ValueError):
    """The value is not plain data (a custom object, a cycle, or too large)."""


def to_plain(obj, *, _depth: int = 0, _budget: list | None = None):
    """Return a plain copy of ``obj`` built only from builtin types, or raise Unrepresentable.

    Subclasses of builtin types (defaultdict, Counter, namedtuple, IntEnum...) are copied through the base type's C
    methods, which ignore Python-level overrides.
    """
    budget = _budget if _budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise Unrepresentable(f"value has more than {MAX_NODES} parts")
    if _depth > MAX_DEPTH:
        raise Unrepresentable(f"value is nested deeper than {MAX_DEPTH} levels (or contains itself)")
    if obj is None or obj is True or obj is False:
        return obj
    t = type(obj)
    d = _depth + 1
    # bool subclasses cannot exist, so an int subclass is a real int subclass (IntEnum, a hostile int...)
    if isinstance(obj, bool):
        return bool.__bool__(obj)
    if isinstance(obj, int):
        return int.__index__(obj)
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, complex):
        return complex(complex.__getattribute__(obj, "real"), complex.__getattribute__(obj, "imag"))
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(bytes.__bytes__(obj)) if isinstance(obj, bytes) else bytes(bytearray.__iter__(obj))
    if isinstance(obj, list):
        return [to_plain(x, _depth=d, _budget=budget) for x in list.__iter__(obj)]
    if isinstance(obj, tuple):
        return tuple(to_plain(x, _depth=d, _budget=budget) for x in tuple.__iter__(obj))
    if isinstance(obj, dict):
        out = {}
        for k, v in dict.items(obj):
            out[to_plain(k, _depth=d, _budget=budget)] = to_plain(v, _depth=d, _budget=budget)
        return out
    if isinstance(obj, frozenset):
        return frozenset(to_plain(x, _depth=d, _budget=budget) for x in frozenset.__iter__(obj))
    if isinstance(obj, set):
        return {to_plain(x, _depth=d, _budget=budget) for x in set.__iter__(obj)}
    if isinstance(obj, range):
        return range(obj.start, obj.stop, obj.step)
    if not _defines_truth(t):
        # e.g. re.Match: no value to compare, but Python calls it truthy; keep just that (equal only to itself)
        return Opaque(f"{t.__module__}.{t.__qualname__}")
    raise Unrepresentable(f"a {t.__module__}.{t.__qualname__} object is not plain data")


def _defines_truth(t: type) -> bool:
    return any(("__bool__" in vars(k) or "__len__" in vars(k)) for k in t.__mro__ if k is not object)


class Opaque:
    """An object with no plain value, standing in for e.g. a ``re.Match``: truthy, equal to nothing but itself."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other) -> bool:
        return self is other

    __hash__ = object.__hash__


class Digest:
    """A value too large to ship whole (more parts, depth or bytes than a report carries), standing in as its
    content hash: equal to any value with the same :func:`digest`. Comparison is exact (type and content)."""

    __slots__ = ("hexdigest", "parts", "type_name")

    def __init__(self, hexdigest: str, parts: int, type_name: str):
        self.hexdigest, self.parts, self.type_name = hexdigest, parts, type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} of {self.parts} parts, sha256 {self.hexdigest[:12]}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Digest) and other.hexdigest == self.hexdigest

    def __hash__(self) -> int:
        return hash(self.hexdigest)


def digest(obj) -> Digest:
    """Content hash of a value of any size or depth, read through the base types' own methods (as
    :func:`to_plain`). Iterative, so depth costs no recursion; order counts for lists and tuples, not for sets and
    dicts (as ``==``). Raises Unrepresentable for a value that contains itself or is not plain data."""
    fast = _fast_digest(obj)
    if fast is not None:
        return fast
    results: list[bytes] = []
    stack: list[tuple] = [(obj, None, 0)]
    on_path: set[int] = set()
    parts = 0
    while stack:
        item, kind, n = stack.pop()
        if kind is None:
            parts += 1
            leaf = _leaf_bytes(item)
            if leaf is not None:
                results.append(hashlib.sha256(leaf).digest())
                continue
            kind, children = _children(item)
            if id(item) in on_path:
                raise Unrepresentable("value contains itself")
            on_path.add(id(item))
            stack.append((item, kind, len(children)))
            stack.extend((child, None, 0) for child in reversed(children))
            continue
        on_path.discard(id(item))
        child = results[len(results) - n:] if n else []
        del results[len(results) - n:]
        if kind == "dict":  # (key, value) pairs, order-free
            child = sorted(hashlib.sha256(child[i] + child[i + 1]).digest() for i in range(0, n, 2))
        elif kind in ("set", "frozenset"):
            child = sorted(child)
        results.append(hashlib.sha256(kind.encode() + b"\0" + b"".join(child)).digest())
    return Digest(results[0].hex(), parts, type(obj).__name__)


_CHUNK = 4096
_PICKLE_PROTOCOL = 4  # protocol 4 writes short strings in 2 bytes of overhead (protocol 3: 5), the bulk of a result
_NEGATIVE_ZERO = b"G" + struct.pack(">d", -0.0)  # the BINFLOAT opcode and its argument
_ORDER_FREE_OPCODES = (b"}", b"\x8f", b"\x91")  # EMPTY_DICT, EMPTY_SET, FROZENSET


class _NotExact(Exception):
    """Raised inside :class:`_ExactPickler` for anything that is not an exact builtin type it writes in C."""


class _ExactPickler(pickle.Pickler):
    """Pickles exact builtin types only, at C speed, as a canonical byte string.

    The C pickler writes None, bool, int, float, str, bytes, list, tuple, dict, set and frozenset itself (checking
    the *exact* type, so no method of a subclass runs) and asks ``reducer_override`` about everything else:
    subclasses, custom objects, complex, bytearray and range (reduced through their type). Refusing there keeps the
    fast path to exact types. ``fast`` turns the memo off: with it, an object seen twice is written as a
    back-reference, so equal values of different identity would pickle differently."""

    def reducer_override(self, obj):
        raise _NotExact


def _exact_pickle(chunk: list) -> bytes | None:
    """The memo-free pickle of a list of exact builtin values; None when something else is inside, when it contains
    itself, or when it is nested too deep for the C pickler."""
    out = io.BytesIO()
    pickler = _ExactPickler(out, protocol=_PICKLE_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(chunk)
    except (_NotExact, ValueError, RecursionError, pickle.PicklingError):
        return None
    return out.getvalue()


def _pickles_canonically() -> bool:
    """Whether memo-free pickling works here (``Pickler.fast`` honoured): an object seen twice pickles as a copy."""
    shared, text = [1], "".join(["ab", "c"])
    return _exact_pickle([shared, shared, text, text]) == _exact_pickle([[1], [1], "abc", "".join(["a", "bc"])])


def _fast_digest(obj) -> Digest | None:
    """The usual large result, a list or tuple of scalars, lists and tuples (EvalPlus's combinations: millions of
    tuples of strings), hashed at C speed: sha256 over the canonical pickle of each chunk of items in turn.

    Canonical: with exact builtin types and no memo, the bytes are a function of the value's content (types
    included: ``True`` is not ``1``, a tuple is not a list), and they determine it (pickle reads them back), so
    equal values give equal bytes and different values different ones. Three cases need a second look, each decided
    by the content alone, so both sides of a comparison take the same path:

    - an item that is not an exact builtin type (a namedtuple, an IntEnum, a hostile ``str`` subclass) is read
      through its base type's own methods (:func:`to_plain`) first, so it hashes as the honest value it holds;
    - ``-0.0 == 0.0``: a chunk whose bytes hold a negative zero is pickled again with zeros made positive;
    - dicts and sets are order-free under ``==`` but pickled in iteration order: a value that holds one (one of
      their opcodes' bytes, then a walk to be sure) goes to the general path, as do complex numbers and ranges.

    ``parts`` counts the first two levels. None sends the value to the general path."""
    if not _CANONICAL:
        return None
    if isinstance(obj, list):
        kind, items = b"list", list(list.__iter__(obj))
    elif isinstance(obj, tuple):
        kind, items = b"tuple", list(tuple.__iter__(obj))
    else:
        return None
    h = hashlib.sha256(b"pickle4:" + kind + b":" + str(len(items)).encode() + b":")
    parts = 1 + len(items)
    for start in range(0, len(items), _CHUNK):
        chunk = items[start:start + _CHUNK]
        data = _exact_pickle(chunk)
        if data is None:
            try:
                chunk = to_plain(chunk, _budget=[len(chunk) * MAX_NODES])
            except (Unrepresentable, RecursionError):
                return None
            data = _exact_pickle(chunk)
            if data is None:
                return None
        if any(opcode in data for opcode in _ORDER_FREE_OPCODES) and _holds_order_free(chunk):
            return None
        if b"G" in data and _NEGATIVE_ZERO in data:
            try:
                data = _exact_pickle(_zeros_made_positive(chunk))
            except RecursionError:
                return None
            if data is None:
                return None
        kinds = set(map(type, chunk))
        if kinds <= {list, tuple}:
            parts += sum(map(len, chunk))
        elif list in kinds or tuple in kinds:
            parts += sum(len(x) for x in chunk if type(x) is tuple or type(x) is list)
        h.update(data)
    return Digest(h.hexdigest(), parts, type(obj).__name__)


def _holds_order_free(chunk: list) -> bool:
    """Whether a list of exact builtin values holds a dict, set or frozenset at any depth."""
    stack = [chunk]
    while stack:
        for x in stack.pop():
            t = type(x)
            if t is dict or t is set or t is frozenset:
                return True
            if t is list or t is tuple:
                stack.append(x)
    return False


def _zeros_made_positive(value):
    t = type(value)
    if t is float:
        return value + 0.0  # -0.0 + 0.0 is 0.0
    if t is list:
        return [_zeros_made_positive(x) for x in value]
    if t is tuple:
        return tuple(_zeros_made_positive(x) for x in value)
    return value


_CANONICAL = _pickles_canonically()


def _leaf_bytes(obj) -> bytes | None:
    if obj is None or obj is True or obj is False:
        return repr(obj).encode()
    if isinstance(obj, bool):
        return repr(bool.__bool__(obj)).encode()
    if isinstance(obj, int):
        value = int.__index__(obj)
        return b"int:" + value.to_bytes((value.bit_length() + 8) // 8 or 1, "big", signed=True)
    if isinstance(obj, float):
        value = float.__float__(obj)
        return b"float:" + struct.pack("<d", value + 0.0)  # + 0.0: -0.0 == 0.0
    if isinstance(obj, complex):
        return b"complex:" + struct.pack("<dd", complex.__getattribute__(obj, "real") + 0.0,
                                         complex.__getattribute__(obj, "imag") + 0.0)
    if isinstance(obj, str):
        return b"str:" + str.__str__(obj).encode("utf-8", "surrogatepass")
    if isinstance(obj, (bytes, bytearray)):
        return b"bytes:" + (bytes.__bytes__(obj) if isinstance(obj, bytes) else bytes(bytearray.__iter__(obj)))
    if isinstance(obj, range):
        return f"range:{obj.start}:{obj.stop}:{obj.step}".encode()
    if isinstance(obj, Digest):
        raise Unrepresentable("a digest is not a value")
    return None


def _children(obj) -> tuple[str, list]:
    if isinstance(obj, list):
        return "list", list(list.__iter__(obj))
    if isinstance(obj, tuple):
        return "tuple", list(tuple.__iter__(obj))
    if isinstance(obj, dict):
        return "dict", [x for pair in dict.items(obj) for x in pair]
    if isinstance(obj, frozenset):
        return "frozenset", list(frozenset.__iter__(obj))
    if isinstance(obj, set):
        return "set", list(set.__iter__(obj))
    raise Unrepresentable(f"a {type(obj).__module__}.{type(obj).__qualname__} object is not plain data")


def encode(value):
    """Plain value -> JSON-compatible tree (tags for tuple, set, bytes, non-finite floats, non-string keys)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {_TAG: "float", "v": repr(value)}
    if isinstance(value, list):
        return [encode(x) for x in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(x) for x in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {_TAG: "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {_TAG: "frozenset", "v": [encode(x) for x in value]}
    if isinstance(value, set):
        return {_TAG: "set", "v": [encode(x) for x in value]}
    if isinstance(value, bytes):
        return {_TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, complex):
        return {_TAG: "complex", "v": [encode(value.real), encode(value.imag)]}
    if isinstance(value, range):
        return {_TAG: "range", "v": [value.start, value.stop, value.step]}
    if isinstance(value, Opaque):
        return {_TAG: "opaque", "v": value.type_name}
    if isinstance(value, Digest):
        return {_TAG: "digest", "v": [value.hexdigest, value.parts, value.type_name]}
    raise Unrepresentable(f"cannot encode {type(value).__name__}")


def decode(tree):
    """Inverse of :func:`encode`."""
    if isinstance(tree, list):
        return [decode(x) for x in tree]
    if isinstance(tree, dict):
        tag = tree.get(_TAG)
        if tag is None:
            return {k: decode(v) for k, v in tree.items()}
        v = tree.get("v")
        if tag == "tuple":
            return tuple(decode(x) for x in v)
        if tag == "dict":
            return {_hashable(decode(k)): decode(x) for k, x in v}
        if tag == "set":
            return {_hashable(decode(x)) for x in v}
        if tag == "frozenset":
            return frozenset(_hashable(decode(x)) for x in v)
        if tag == "float":
            return float(v)
        if tag == "bytes":
            return base64.b64decode(v)
        if tag == "complex":
            return complex(decode(v[0]), decode(v[1]))
        if tag == "range":
            return range(*v)
        if tag == "opaque":
            return Opaque(str(v))
        if tag == "digest":
            return Digest(str(v[0]), int(v[1]), str(v[2]))
        raise ValueError(f"unknown plain-data tag {tag!r}")
    return tree


def _hashable(x):
    # JSON round trips never produce lists inside sets or keys, but be forgiving with hand-written files.
    return tuple(_hashable(i) for i in x) if isinstance(x, list) else x


def short_repr(value, limit: int = 200) -> str:
    """repr() cut to ``limit`` characters, for messages."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for str()
        text = f"<int of {value.bit_length()} bits>" if isinstance(value, int) else "<value>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def equal(actual, expected, atol: float = 0.0, rtol: float = 0.0) -> bool:
    """Compare two plain values. Both are builtin types, so ``==`` here runs no candidate code.

    With ``atol > 0`` floats compare within ``atol``, recursively through containers. With ``rtol > 0`` too, the
    comparison is evalplus's: equal, or (when ``atol`` is non-zero) the same type, the same length for a list or
    tuple, and every number within ``atol + rtol * |expected|`` (``numpy.allclose``). A :class:`Digest` on either
    side compares by content hash, exactly.
    """
    if isinstance(actual, Digest) or isinstance(expected, Digest):
        a, e = _digest_of(actual), _digest_of(expected)
        return a is not None and a == e
    try:
        if actual == expected:
            return True
    except Exception:  # noqa: BLE001 - comparing builtins never raises, but stay total
        return False
    if atol <= 0:
        return False
    if rtol > 0:
        return type(actual) is type(expected) and _allclose(actual, expected, atol, rtol)
    return _within(actual, expected, atol)


def _digest_of(value) -> str | None:
    if isinstance(value, Digest):
        return value.hexdigest
    try:
        return digest(value).hexdigest
    except Unrepresentable:
        return None


def _allclose(actual, expected, atol: float, rtol: float) -> bool:
    """numpy.allclose on equal shapes: |a - e| <= atol + rtol * |e| for every number, NaN never close."""
    if isinstance(expected, (list, tuple)) or isinstance(actual, (list, tuple)):
        if not (isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple))):
            return False
        return len(actual) == len(expected) and all(_allclose(a, e, atol, rtol) for a, e in zip(actual, expected))
    numbers = (int, float, complex)
    if not isinstance(actual, numbers) or not isinstance(expected, numbers):
        return False
    if actual == expected:  # equal infinities
        return True
    try:
        return abs(actual - expected) <= atol + rtol * abs(expected)
    except OverflowError:
        return False


def _within(actual, expected, atol: float) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(actual, bool) or isinstance(expected, bool):
            return actual == expected
        if not isinstance(actual, (int, float)) or not isinstance(expected, (int, float)):
            return False
        if math.isnan(expected) and math.isnan(actual):
            return True
        return abs(actual - expected) <= atol
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        if type(actual) is not type(expected) or len(actual) != len(expected):
            return False
        return all(_within(a, e, atol) for a, e in zip(actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        if actual.keys() != expected.keys():
            return False
        return all(_within(actual[k], expected[k], atol) for k in expected)
    return actual == expected
