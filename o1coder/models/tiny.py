"""The project's own tiny model: works offline, builds in seconds, loads like any Hugging Face checkpoint.

No weights can be downloaded in tests or on an offline laptop, so the tiny-cpu recipe uses a model built here:

* a byte-level BPE tokenizer trained with ``tokenizers`` on a fixed corpus (Python standard-library sources plus a
  short English text about the pseudocode steps), with Qwen2's NFC normaliser and pre-tokeniser (Qwen2's split
  regex + ByteLevel) and Qwen's chat markup (<|im_start|>, <|im_end|>), saved so that ``AutoTokenizer`` reloads it
  with the same ids;
* a randomly initialised (seeded) ``Qwen2ForCausalLM``: 2 layers, hidden size 128, 4 heads of size 32 (a head
  size vLLM's attention kernels accept), ~0.7M parameters.

Its samples are random text until later stages train it on the bundled reasoning traces. The build is written to a
temporary folder and renamed into place, so a crash or two concurrent builds never leave a half model behind.

The same builder makes variants: ``build_tiny_model(folder, texts=..., vocab_size=..., shape=...)`` trains the
tokenizer on another corpus (e.g. the synthetic world's text, see :mod:`o1coder.training.world_policy`) and sizes the
model differently; the marker records the corpus hash, vocabulary and shape, so a cached variant built from other
settings is rebuilt instead of reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sysconfig
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from o1coder import paths

logger = logging.getLogger(__name__)

TINY_NAME = "tiny"
TINY_VERSION = 1  # bump when anything below changes what gets built: cached builds of an older version are rebuilt
MARKER = "o1coder_tiny.json"  # written last: a folder without it is not a finished build

VOCAB_SIZE = 3072
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")  # ids 0, 1, 2
EOS_TOKEN = "<|im_end|>"  # ends an assistant turn, as in Qwen2.5-Instruct
PAD_TOKEN = "<|endoftext|>"  # distinct from eos so that training collators do not mask the eos labels
# Qwen2's pre-tokenisation regex (the same one transformers' Qwen2 tokenizer uses).
QWEN2_SPLIT_REGEX = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)
MODEL_SHAPE = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 8192,
}
INIT_SEED = 1234
_INIT_LOCK = threading.Lock()

# Standard-library modules read for the tokenizer corpus: plain, stable Python with English docstrings.
CORPUS_MODULES = (
    "bisect.py", "heapq.py", "functools.py", "string.py", "textwrap.py", "fractions.py", "statistics.py",
    "difflib.py", "pprint.py", "collections/__init__.py", "json/encoder.py", "json/decoder.py", "argparse.py",
    "random.py", "dataclasses.py", "enum.py", "shlex.py", "calendar.py",
)  # fmt: skip
ENGLISH_TEXT = """\
Solve the problem step by step. Step 1: define the structure of the algorithm in pseudocode: the functions,
their inputs and their outputs, without the details. Step 2: refine the pseudocode; add the loops, the conditions
and the data structures. Repeat the refinement while it helps. Step 3: write the Python code.
Read the input from standard input and print the answer. Return the result of the function.
For each test case, the program reads a list of integers and prints the sum, the maximum and the minimum.
If the list is empty, return zero. Sort the array, count the elements, and check whether the string is a
palindrome. The expected output must match. The answer is correct when all tests pass.
"""


def tiny_model_dir() -> Path:
    """Where the tiny model is cached: ``o1coder.paths.models_dir() / "tiny"``."""
    return paths.models_dir() / TINY_NAME


def build_tiny_model(out_dir: str | os.PathLike | None = None, force: bool = False, *,
                     texts: list[str] | None = None, vocab_size: int = VOCAB_SIZE,
                     shape: dict[str, int] | None = None, added_tokens: Sequence[str] = ()) -> Path:
    """Build the tiny model (tokenizer + weights) into ``out_dir`` unless a finished build is already there.

    Returns the folder, loadable with ``from_pretrained`` and by every backend that takes a local path.
    ``force=True`` rebuilds even when a finished build exists (the result is byte-identical: everything is seeded).
    A variant: ``texts`` replaces the tokenizer corpus, ``vocab_size`` its size, ``shape`` overrides keys of
    :data:`MODEL_SHAPE`, ``added_tokens`` are whole strings that become one token each (e.g. a prompt's fixed
    instruction, which every training row repeats); a cached build made from other settings is rebuilt.
    """
    target = Path(out_dir) if out_dir is not None else tiny_model_dir()
    unknown = sorted(set(shape or {}) - set(MODEL_SHAPE))
    if unknown:
        raise ValueError(f"unknown tiny model shape key(s) {unknown}; known: {sorted(MODEL_SHAPE)}")
    variant = {} if texts is None and not shape and vocab_size == VOCAB_SIZE and not added_tokens else {
        "texts": list(texts) if texts is not None else corpus_texts(), "vocab_size": vocab_size,
        "shape": {**MODEL_SHAPE, **(shape or {})}, "added_tokens": list(added_tokens)}
    identity = build_identity(**variant) if variant else None
    if not force and is_built(target, identity):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-build-", dir=target.parent))
    try:
        _build_into(staging, **variant)
        _move_into_place(staging, target, force=force or identity is not None)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("tiny model ready at %s", target)
    return target


def build_identity(texts: list[str], vocab_size: int, shape: dict[str, int], added_tokens: Sequence[str] = ()) -> dict:
    """What makes two builds the same (recorded in the marker): the corpus hash, the vocabulary and the shape."""
    identity = {"corpus_sha256": _corpus_hash(texts), "vocab_size": vocab_size, "shape": dict(sorted(shape.items()))}
    if added_tokens:
        identity["added_tokens_sha256"] = _corpus_hash(list(added_tokens))
    return identity


def is_built(folder: Path, identity: dict | None = None) -> bool:
    """True when ``folder`` holds a finished build of the current ``TINY_VERSION`` (and of ``identity``, if given)."""
    try:
        info = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if info.get("version") != TINY_VERSION:
        return False
    return identity is None or all(info.get(key) == value for key, value in identity.items())


def _move_into_place(staging: Path, target: Path, force: bool) -> None:
    """Rename the finished build to ``target``. A rename is atomic: readers see no folder or a whole one."""
    if target.exists() and (force or not is_built(target)):  # a stale or half-written folder goes aside first
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        try:
            os.rename(target, old / "model")
        except OSError:  # another process moved it first
            pass
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(staging, target)
    except OSError:
        # Another process finished its build first: theirs is identical, keep it.
        if not is_built(target):
            raise
        logger.info("tiny model was built concurrently at %s; using that build", target)


def corpus_texts() -> list[str]:
    """The tokenizer's training corpus, in a fixed order (so the same Python version gives the same tokenizer)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    texts = [ENGLISH_TEXT]
    for name in CORPUS_MODULES:
        try:
            texts.append((stdlib / name).read_text(encoding="utf-8"))
        except OSError:
            logger.warning("tiny tokenizer corpus: %s not found in %s; skipped", name, stdlib)
    return texts


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE, added_tokens: Sequence[str] = ()):
    """A byte-level BPE ``tokenizers.Tokenizer`` with Qwen2's normaliser, pre-tokeniser and decoder; each of
    ``added_tokens`` is then one more token, matched verbatim before pre-tokenisation."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: any text encodes, nothing is unknown
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    if added_tokens:
        tokenizer.add_tokens([AddedToken(text, normalized=False, special=False) for text in added_tokens])
    return tokenizer


def _build_into(folder: Path, texts: list[str] | None = None, vocab_size: int = VOCAB_SIZE,
                shape: dict[str, int] | None = None, added_tokens: Sequence[str] = ()) -> None:
    texts = corpus_texts() if texts is None else texts
    shape = MODEL_SHAPE if shape is None else shape
    try:
        import torch
        import transformers
    except ImportError as error:
        raise ImportError("building the tiny model needs transformers: pip install 'o1coder[train]'") from error

    hf_tokenizer = transformers.Qwen2TokenizerFast(
        tokenizer_object=train_tokenizer(texts, vocab_size, added_tokens),
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        unk_token=None,
        bos_token=None,
        padding_side="left",  # decoder-only generation pads on the left
        chat_template=CHAT_TEMPLATE,
        model_max_length=shape["max_position_embeddings"],
        clean_up_tokenization_spaces=False,
    )
    hf_tokenizer.save_pretrained(folder)

    eos_id, pad_id = hf_tokenizer.convert_tokens_to_ids([EOS_TOKEN, PAD_TOKEN])
    config = transformers.Qwen2Config(
        vocab_size=_round_up(len(hf_tokenizer), 64),
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        **shape,
    )
    # seeded init without disturbing the caller's random state; the lock keeps threads from sharing the seed
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        model = transformers.Qwen2ForCausalLM(config)
    model.generation_config = transformers.GenerationConfig(eos_token_id=[eos_id, pad_id], pad_token_id=pad_id)
    hf_logging = transformers.utils.logging
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # library code: no progress bar for a file written in milliseconds
    try:
        model.save_pretrained(folder)
    finally:
        if bars:
            hf_logging.enable_progress_bar()

    info = {"version": TINY_VERSION, **build_identity(texts, vocab_size, shape, added_tokens),
            "transformers": transformers.__version__}
    (folder / MARKER).write_text(json.dumps(info, indent=2) + "\n")


def _corpus_hash(texts: list[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
