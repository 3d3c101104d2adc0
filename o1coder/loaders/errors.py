"""The two ways loading a benchmark can fail besides a missing file.

``MalformedRecord`` is a ValueError: the file is there but one record in it is not what the format promises; the
message names the file, the line (JSON lines) or record index (JSON lists) and the field, so the user can open the
file at that spot. ``DatasetUnavailable`` is a RuntimeError: the Hugging Face hub could not deliver the dataset
(offline, not cached, network or hub error); the message names the ``path=`` alternative.
"""

from __future__ import annotations


class MalformedRecord(ValueError):
    """A record of a benchmark file does not match the benchmark's format."""

    def __init__(self, where: str, field: str | None, problem: str):
        self.where = where
        self.field = field
        self.problem = problem
        at = f"{where}, field {field!r}" if field else where
        super().__init__(f"{at}: {problem}")


class DatasetUnavailable(RuntimeError):
    """The Hugging Face hub could not provide the dataset; load a local file with ``path=`` instead."""
