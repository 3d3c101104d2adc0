"""Stable seeds: a search must give the same tree whatever the timing, the process or the problem order."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    """A 31-bit seed from ``parts`` (e.g. ``(config.seed, problem.id, "expand", node.id)``).

    A hash, not Python's ``hash()`` (salted per process) nor a running counter (depends on what ran before). 31 bits
    because every backend accepts that range (torch, vLLM, OpenAI-compatible servers).
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
