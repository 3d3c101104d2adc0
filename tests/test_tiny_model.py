"""The offline tiny model: built locally, saved in Hugging Face format, reloaded with identical token ids."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import shared_models_dir

from o1coder.models import tiny
from o1coder.models.tiny import build_tiny_model, is_built

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

SAMPLES = [
    "def add(a, b):\n    return a + b\n",
    "Step 1: define the structure.\n\tfor i in range(10):  # héllo Ünïcode 😀\n",
    "x = [1, 22, 333]; print(x[::-1]) if x else None\r\n",
    "<|im_start|>user\nhi<|im_end|>\n",
    "   leading spaces and trailing   ",
]


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    # the same folder that conftest points O1CODER_MODELS_DIR at: one build per test session
    return build_tiny_model(shared_models_dir(tmp_path_factory.getbasetemp()) / "tiny")


def test_build_writes_a_hugging_face_checkpoint(tiny_path):
    names = {p.name for p in tiny_path.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    assert {"generation_config.json", tiny.MARKER} <= names
    config = json.loads((tiny_path / "config.json").read_text())
    assert config["model_type"] == "qwen2"
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (128, 2, 4)
    assert config["vocab_size"] == tiny.VOCAB_SIZE
    assert json.loads((tiny_path / tiny.MARKER).read_text())["version"] == tiny.TINY_VERSION


def test_tokenizer_reloads_with_identical_ids(tiny_path):
    trained = tiny.train_tokenizer(tiny.corpus_texts())  # the tokenizer as trained, before any saving
    reloaded = transformers.AutoTokenizer.from_pretrained(tiny_path)
    for text in SAMPLES:
        ids = reloaded(text)["input_ids"]
        assert ids == trained.encode(text).ids
        assert len(ids) < len(text.encode())  # merges were learnt: fewer tokens than bytes
        assert reloaded.decode(ids) == text  # byte-level: every string round-trips
    assert reloaded.convert_tokens_to_ids(list(tiny.SPECIAL_TOKENS)) == [0, 1, 2]
    assert reloaded("<|im_start|>user<|im_end|>")["input_ids"][0] == 1
    assert len(reloaded) == tiny.VOCAB_SIZE


def test_tokenizer_uses_qwen2_normaliser_and_pretokeniser(tiny_path):
    spec = json.loads((tiny_path / "tokenizer.json").read_text())
    assert spec["normalizer"]["type"] == "NFC"
    split, byte_level = spec["pre_tokenizer"]["pretokenizers"]
    assert split["pattern"]["Regex"] == tiny.QWEN2_SPLIT_REGEX
    assert byte_level["type"] == "ByteLevel" and byte_level["use_regex"] is False
    qwen2 = pytest.importorskip("transformers.models.qwen2.tokenization_qwen2")
    if hasattr(qwen2, "PRETOKENIZE_REGEX"):
        assert qwen2.PRETOKENIZE_REGEX == tiny.QWEN2_SPLIT_REGEX
    # NFC: a decomposed "é" encodes like the composed one
    reloaded = transformers.AutoTokenizer.from_pretrained(tiny_path)
    assert reloaded("cafe\u0301")["input_ids"] == reloaded("caf\u00e9")["input_ids"]


def test_tokenizer_settings_are_saved(tiny_path):
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_path)
    assert tokenizer.padding_side == "left"
    assert (tokenizer.eos_token, tokenizer.pad_token) == ("<|im_end|>", "<|endoftext|>")
    chat = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    rendered = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    assert rendered == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_model_loads_and_runs(tiny_path):
    import torch

    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_path)
    ids = torch.tensor([tokenizer("def f(x):")["input_ids"]])
    logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], tiny.VOCAB_SIZE)
    assert model.generation_config.eos_token_id == [2, 0]
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_second_call_reuses_the_cache(tiny_path, monkeypatch):
    marker_time = (tiny_path / tiny.MARKER).stat().st_mtime_ns

    def fail(folder):
        raise AssertionError("rebuilt although a finished build exists")

    monkeypatch.setattr(tiny, "_build_into", fail)
    assert build_tiny_model() == tiny_path  # the default folder comes from O1CODER_MODELS_DIR
    assert (tiny_path / tiny.MARKER).stat().st_mtime_ns == marker_time


def test_half_written_folder_is_rebuilt_and_builds_are_identical(tiny_path, tmp_path):
    target = tmp_path / "tiny"
    target.mkdir()
    (target / "config.json").write_text("{}")  # a crash left this behind: no marker, so not a build
    assert not is_built(target)
    assert build_tiny_model(target) == target
    assert is_built(target)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert _sha(target / name) == _sha(tiny_path / name), name
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "tiny"]
    assert leftovers == []  # staging and old folders are cleaned up


def test_concurrent_builds_leave_one_whole_model(tiny_path, tmp_path):
    import threading

    target, results, errors = tmp_path / "tiny", [], []

    def build():
        try:
            results.append(build_tiny_model(target))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [target, target]
    assert is_built(target) and _sha(target / "model.safetensors") == _sha(tiny_path / "model.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["tiny"]


def test_stale_version_is_rebuilt(tmp_path, monkeypatch):
    target = tmp_path / "tiny"
    built = []
    monkeypatch.setattr(tiny, "_build_into", lambda folder: (built.append(folder), _fake_build(folder)))
    build_tiny_model(target)
    monkeypatch.setattr(tiny, "TINY_VERSION", tiny.TINY_VERSION + 1)
    build_tiny_model(target)
    assert len(built) == 2 and is_built(target)


def _fake_build(folder):
    (folder / tiny.MARKER).write_text(json.dumps({"version": tiny.TINY_VERSION}))


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()
