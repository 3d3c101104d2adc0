"""Reading benchmark files: JSON lines or one JSON list, plain or gzip, with errors that point at the bad spot.

Every loader reads its file through :func:`read_records`, which yields :class:`Record` objects. A record knows
where it came from ("mbpp.jsonl line 12", "taco.json record 3", "hub BAAI/TACO test row 7"), so a loader that
finds a missing or ill-typed field raises :class:`MalformedRecord` with the exact location by calling
:meth:`Record.get` or :meth:`Record.error`; no loader formats locations itself.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from o1coder.loaders.errors import MalformedRecord

_GZIP_MAGIC = b"\x1f\x8b"
_MISSING = object()
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "an object",
               bool: "true or false", type(None): "null"}


@dataclass(frozen=True)
class Record:
    """One raw record (a dict) plus where it was read from.

    ``index`` counts records from 0 in file order (blank lines skipped); ``split`` is the hub split, None for files.
    """

    data: dict
    where: str
    index: int = 0
    split: str | None = None

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def get(self, name: str, kind: type | tuple[type, ...] = str, default: Any = _MISSING) -> Any:
        """The field ``name``, checked to be of ``kind``; without ``default`` a missing field is an error.

        ``int`` never accepts ``bool`` (JSON true is not a task id), and ``float`` accepts integers.
        """
        value = self.data.get(name, _MISSING)
        if value is _MISSING or (value is None and default is not _MISSING):
            if default is _MISSING:
                raise self.error(name, "is missing")
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds:
            kinds = (*kinds, int)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            wanted = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds if not (float in kinds and k is int))
            raise self.error(name, f"must be {wanted}, got {_describe(value)}")
        return value

    def get_str_list(self, name: str, default: Any = _MISSING) -> list[str]:
        """A list of strings (test lists, imports)."""
        items = self.get(name, list, default)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.error(f"{name}[{i}]", f"must be a string, got {_describe(item)}")
        return items

    def get_json(self, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        """A field that some copies of a dataset store as a JSON string and others as decoded JSON (TACO, hub rows)."""
        value = self.data.get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as e:
                raise self.error(name, f"holds a string that is not valid JSON ({e.msg} at char {e.pos})") from None
            return Record({name: value}, self.where).get(name, kind, default)
        return self.get(name, kind, default)

    def error(self, field: str | None, problem: str) -> MalformedRecord:
        return MalformedRecord(self.where, field, problem)


def _describe(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def check_file(path: str | os.PathLike, benchmark: str) -> Path:
    """``path`` as a Path; FileNotFoundError naming it (and the benchmark) when it is not a readable file."""
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"{benchmark} file {str(path)!r} {what}")
    return path


def open_text(path: Path) -> io.TextIOBase:
    """Open a text file, gunzipping transparently (by content, so a misnamed .gz still reads)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == _GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def read_records(path: Path) -> Iterator[Record]:
    """Records of a JSON-lines file or of a file holding one JSON list, told apart by the first character.

    Benchmark files are a few megabytes, so reading the whole text first keeps this simple.
    """
    with open_text(path) as f:
        try:
            text = f.read()
        except (UnicodeDecodeError, OSError, EOFError) as e:
            raise MalformedRecord(str(path), None, f"cannot be read as UTF-8 text ({e})") from None
    if text.lstrip()[:1] == "[":
        yield from _json_list(path, text)
    else:
        # split on "\n" only: JSON strings may hold U+2028 and friends, which str.splitlines would cut at
        yield from _json_lines(path, text.split("\n"))


def _json_lines(path: Path, lines: Iterable[str]) -> Iterator[Record]:
    index = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            raise MalformedRecord(where, None, f"not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(data, dict):
            raise MalformedRecord(where, None, f"must be a JSON object, got {type(data).__name__}")
        yield Record(data, where, index)
        index += 1


def _json_list(path: Path, text: str) -> Iterator[Record]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as e:
        where = f"{path} line {e.lineno}"
        raise MalformedRecord(where, None, f"not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(items, list):
        raise MalformedRecord(str(path), None, f"must hold one JSON list of records, got {type(items).__name__}")
    for index, data in enumerate(items):
        where = f"{path} record {index}"
        if not isinstance(data, dict):
            raise MalformedRecord(where, None, f"must be a JSON object, got {type(data).__name__}")
        yield Record(data, where, index)


def check_limit(limit: int | None) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    return limit


def take(items: Iterable, limit: int | None) -> Iterator:
    """The first ``limit`` items (all when None), reading no further than needed."""
    if limit is None:
        yield from items
        return
    if limit == 0:
        return
    for count, item in enumerate(items, start=1):
        yield item
        if count >= limit:
            return


def normalize_newlines(text: str) -> str:
    """MBPP stores code with Windows line ends; Python does not care, but prompts and diffs read better without."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
