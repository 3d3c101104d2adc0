"""Rows from the Hugging Face hub, as :class:`Record` objects the file loaders already understand.

``datasets`` is an optional dependency (the ``train`` extra), imported only here and only when a loader is called
without ``path``. Any failure of the hub (offline mode, no cached copy, network or server error, a dataset that
moved) becomes :class:`DatasetUnavailable`, whose message names the local-file alternative: the rest of the
project never needs the network, so the way around a hub problem should be one copy-paste away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from o1coder.loaders._io import Record, check_file, read_records, take
from o1coder.loaders.errors import DatasetUnavailable
from o1coder.problems import Problem

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'o1coder[train]'"


def hub_records(benchmark: str, dataset: str, *, config: str | None = None, split: str | None = None,
                example_file: str) -> Iterator[Record]:
    """Rows of ``dataset`` (one split, or all splits in the hub's order when ``split`` is None).

    ``benchmark`` and ``example_file`` only shape the error message.
    """
    datasets = _import_datasets()
    label = dataset if config is None else f"{dataset} ({config})"
    logger.info("loading %s from the Hugging Face hub", label)
    try:
        loaded = datasets.load_dataset(dataset, config, split=split)
    except Exception as e:  # noqa: BLE001 - any hub failure gets the same way out: a local file
        raise DatasetUnavailable(_unavailable_message(benchmark, label, e, example_file)) from e
    splits = {split: loaded} if split is not None else dict(loaded)
    for split_name, rows in splits.items():
        for index, row in enumerate(rows):
            yield Record(dict(row), f"hub {label} {split_name} row {index}", index, split_name)


def _import_datasets():
    try:
        import datasets
    except ImportError as e:
        raise ImportError(
            f"loading benchmarks from the Hugging Face hub needs the `datasets` package: {INSTALL_HINT}, "
            "or pass path= to read a local copy of the benchmark file"
        ) from e
    return datasets


def _unavailable_message(benchmark: str, label: str, error: Exception, example_file: str) -> str:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"could not load {label!r} from the Hugging Face hub for benchmark {benchmark!r}: {reason}. "
        f"Without the hub, read a local copy of the benchmark's published file instead: "
        f"load_problems({benchmark!r}, path={example_file!r}) in Python, or {benchmark}:PATH "
        f"(e.g. --problems {benchmark}:{example_file}) on the command line."
    )


@dataclass(frozen=True)
class HubSource:
    """Where a benchmark lives on the hub, and the file name a user would pass as ``path=`` instead."""

    dataset: str
    example_file: str
    config: str | None = None
    split: str | None = None  # None: every split, in the hub's order


def open_records(benchmark: str, path, hub: HubSource, split: str | None = None) -> Iterator[Record]:
    """Records from the local file ``path`` when given, else from the hub (``split`` overrides the default)."""
    if path is not None:
        return read_records(check_file(path, benchmark))
    return hub_records(benchmark, hub.dataset, config=hub.config, split=split or hub.split,
                       example_file=hub.example_file)


def load_skipping_untested(benchmark: str, path, hub: HubSource, split: str | None, limit: int | None,
                           convert: Callable[[Record], Problem | None]) -> list[Problem]:
    """Convert records to problems, skipping (and counting, in one warning) those ``convert`` finds without tests."""
    skipped = 0

    def problems():
        nonlocal skipped
        for record in open_records(benchmark, path, hub, split):
            problem = convert(record)
            if problem is None:
                skipped += 1
            else:
                yield problem

    loaded = list(take(problems(), limit))
    if skipped:
        logger.warning("%s: skipped %d problem(s) without tests", benchmark, skipped)
    return loaded
