"""Many searches in flight (search.concurrency): one generation batch per step, executions beside it, same trees.

The scheduler is checked with a scripted generator (exact control over batches) and with the tiny model on the
transformers backend (the real batched ``model.generate``), always with a real sandbox.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time

import pytest
from kill_in_flight import kill_with_problems_in_flight

from o1coder.bundled import load_bundled
from o1coder.cli import main
from o1coder.config import load_recipe, model_config, sampling_config
from o1coder.execution import Limits, Sandbox
from o1coder.models import SamplingParams, ScriptedGenerator, build_generator
from o1coder.models.base import GenerationCall
from o1coder.paths import PROJECT_ROOT
from o1coder.problems import TestCase
from o1coder.reasoning.prompts import pseudocode_input
from o1coder.runs import (
    db_path,
    get_run,
    load_tree,
    problem_results,
    problems,
)
from o1coder.search import (
    SearchConfig,
    search,
    search_concurrency,
    search_config,
    search_many,
)
from o1coder.search.inflight import InFlight


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sb:
        yield sb


@pytest.fixture(scope="module")
def tiny():
    recipe = load_recipe("tiny-cpu")
    return build_generator(model_config(recipe)), sampling_config(recipe)


def trees(results) -> dict:
    return {r.problem_id: r.tree.to_dict() for r in results}


# --- the scheduler ------------------------------------------------------------------------------------------------


def test_generation_requests_of_all_searches_share_one_batch_and_executions_overlap_it(sandbox):
    """Four searches, each: generate (1 call of n=2), run the code, generate again. Round 1 batches the four first
    calls; each search's execution then runs in the sandbox thread while the next round's generation is under way."""
    generator = ScriptedGenerator(lambda prompt, params, n: [f"{prompt}-{i}" for i in range(n)])
    gen_threads: set[str] = set()
    real = generator.generate_calls

    def spy(calls):
        gen_threads.add(threading.current_thread().name)
        return real(calls)

    generator.generate_calls = spy

    def work(item, g, s):
        [first] = g.generate([f"p{item}"], SamplingParams(seed=item), n=2)
        code = f"def f():\n    return {item}\n"
        [verdict] = s.run_many([(code, [TestCase.call("f", [], item)], "")])
        if item % 2:  # odd searches generate once more; even ones finish
            [second] = g.generate([f"q{item}"], SamplingParams(seed=item), n=1)
            return [c.text for c in first + second], verdict.all_passed
        return [c.text for c in first], verdict.all_passed

    scheduler = InFlight(generator, sandbox, concurrency=4)
    results = scheduler.map(range(4), work)
    assert results == [(["p0-0", "p0-1"], True), (["p1-0", "p1-1", "q1-0"], True), (["p2-0", "p2-1"], True),
                       (["p3-0", "p3-1", "q3-0"], True)]
    stats = scheduler.stats
    assert stats.per_round == [8, 2]  # 4 calls x 2 samples together, then the two second calls together
    assert stats.generation_batches == 2 and stats.generation_calls == 6 and stats.largest_batch == 8
    assert stats.execution_batches == 1 and stats.executions == 4  # all four programs in one run_many
    assert generator.usage.calls == 2  # the backend saw two batches, not six calls
    assert gen_threads == {threading.current_thread().name}  # generation stays in the caller's thread


def test_executions_run_while_the_next_batch_generates(sandbox):
    """Search A executes a slow program while search B's generation (also slow) is under way: the round takes the
    longer of the two, not their sum."""
    def slow(prompt, params, n):
        time.sleep(0.6)
        return ["x"] * n

    generator = ScriptedGenerator(slow)

    def work(item, g, s):
        if item == 0:
            g.generate(["a"], SamplingParams(), n=1)
            return s.run("import time\ntime.sleep(0.6)\n", [])
        g.generate(["b"], SamplingParams(), n=1)
        g.generate(["b2"], SamplingParams(), n=1)
        return None

    scheduler = InFlight(generator, sandbox, concurrency=2)
    start = time.perf_counter()
    results = scheduler.map([0, 1], work)
    elapsed = time.perf_counter() - start
    assert results[0].status == "passed"
    assert scheduler.stats.overlapped_seconds > 0.4
    assert elapsed < 0.6 * 3 + 0.5  # two generation rounds with the execution hidden behind the second (not 3 x 0.6)


def test_an_error_in_one_search_ends_the_map_and_reaches_the_caller(sandbox):
    generator = ScriptedGenerator(lambda prompt, params, n: ["x"] * n)
    unwound = []

    def work(item, g, s):
        try:
            g.generate([f"p{item}"], SamplingParams(), n=1)
            if item == 1:
                raise RuntimeError("search 1 broke")
            g.generate([f"p{item}"], SamplingParams(), n=1)
            g.generate([f"p{item}"], SamplingParams(), n=1)
        finally:
            unwound.append(item)

    with pytest.raises(RuntimeError, match="search 1 broke"):
        InFlight(generator, sandbox, concurrency=3).map(range(3), work)
    assert sorted(unwound) == [0, 1, 2]  # the abandoned searches ran their finally blocks


def test_bad_input_fails_in_the_search_that_made_it(sandbox):
    generator = ScriptedGenerator(lambda prompt, params, n: ["x"] * n)
    with pytest.raises(TypeError, match="wrap a single prompt in a list"):
        InFlight(generator, sandbox, concurrency=2).map([0], lambda item, g, s: g.generate("a prompt"))
    with pytest.raises(ValueError, match="concurrency must be an integer >= 1"):
        InFlight(generator, sandbox, concurrency=0)


def test_concurrency_setting_and_its_automatic_value():
    with pytest.raises(ValueError, match="SearchConfig.concurrency must be an integer >= 1"):
        SearchConfig(concurrency=0)
    model = model_config(load_recipe("tiny-cpu"))
    assert search_concurrency(SearchConfig(concurrency=4), model) == 4
    assert search_concurrency(SearchConfig(k=3), dataclasses.replace(model, max_batch_size=48)) == 16
    assert search_concurrency(SearchConfig(algorithm="best_of_n", n_samples=8), model) == 2
    assert search_concurrency(SearchConfig(), dataclasses.replace(model, backend="vllm")) == 64
    assert search_concurrency(SearchConfig(), None) == 1
    assert search_config(load_recipe("tiny-cpu")).concurrency == 1


# --- the transformers backend: one batched generate over many calls ---------------------------------------------


def test_transformers_answers_many_calls_in_one_pass_and_a_single_call_as_generate_does(tiny):
    generator, _ = tiny
    params = SamplingParams(max_new_tokens=8, seed=11)
    [alone] = generator.generate(["def add(a, b):"], params, n=2)
    [[batched_alone]] = [generator.generate_calls([GenerationCall(["def add(a, b):"], params, 2)])[0]]
    assert [c.text for c in batched_alone] == [c.text for c in alone]  # a batch of one is exactly the call

    calls = [GenerationCall(["def add(a, b):"], params, 2), GenerationCall(["x = ", "y = "], dataclasses.replace(
        params, seed=12), 1), GenerationCall(["z"], dataclasses.replace(params, max_new_tokens=4, seed=3), 3)]
    before = generator.usage.calls
    first = generator.generate_calls(calls)
    assert generator.usage.calls == before + 1
    assert [[len(samples) for samples in result] for result in first] == [[2], [1, 1], [3]]
    assert all(c.completion_tokens <= 4 for c in first[2][0])  # the third call kept its own max_new_tokens
    again = generator.generate_calls(calls)
    assert [[[c.text for c in s] for s in r] for r in again] == [[[c.text for c in s] for s in r] for r in first]


# --- whole searches on the tiny model -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def problem_set():
    return load_bundled()[:4]


SMALL = {"rollouts": 3, "max_depth": 3}


def test_concurrency_one_gives_the_trees_of_the_serial_search(tiny, sandbox, problem_set):
    generator, sampling = tiny
    config = dataclasses.replace(search_config(load_recipe("tiny-cpu")), **SMALL)
    serial = [search(p, generator, sandbox, config, sampling=sampling) for p in problem_set]
    one = search_many(problem_set, generator, sandbox, config, concurrency=1, sampling=sampling)
    assert trees(one) == trees(serial)
    assert [r.stats["tokens"] for r in one] == [r.stats["tokens"] for r in serial]
    assert [r.answer for r in one] == [r.answer for r in serial]


def test_same_trees_twice_at_a_fixed_concurrency(tiny, sandbox, problem_set):
    generator, sampling = tiny
    config = dataclasses.replace(search_config(load_recipe("tiny-cpu")), concurrency=3, **SMALL)
    before = generator.usage.snapshot()
    finished = []
    first = search_many(problem_set, generator, sandbox, config, sampling=sampling,
                        on_result=lambda p, r: finished.append(p.id))
    spent = generator.usage - before
    assert [r.problem_id for r in first] == [p.id for p in problem_set] and sorted(finished) == sorted(
        p.id for p in problem_set)
    per_tree_calls = sum(r.stats["generator_calls"] for r in first)
    assert spent.calls < per_tree_calls  # the trees' calls were answered in shared batches
    assert spent.completion_tokens == sum(r.stats["tokens"]["completion"] for r in first)
    for result in first:  # every rollout spent, or the root exhausted (the untrained model's steps are all dead)
        assert len(result.tree.nodes) > 1
        assert result.tree.root.visits == config.rollouts or result.stats["stop_reason"] == "exhausted"
    second = search_many(problem_set, generator, sandbox, config, sampling=sampling)
    assert trees(second) == trees(first)


# --- SIGKILL with several problems in flight ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_search_killed_with_problems_in_flight_resumes_with_none_lost_and_none_repeated(tmp_path, tiny):
    """`o1coder search` at concurrency 3 killed with SIGKILL while three problems are in flight; `--resume` searches
    exactly the unfinished ones again: every planned problem ends with one result, finished ones keep theirs."""
    runs_dir = str(tmp_path / "runs")
    args = ["search", "--recipe", "tiny-cpu", "--problems", "bundled", "--limit", "8", "--workers", "1",
            "--set", "search.rollouts=3", "--set", "search.concurrency=3", "--runs-dir", runs_dir]
    in_flight_seen = kill_with_problems_in_flight(args, runs_dir, tmp_path / "killed.log", PROJECT_ROOT, 180)
    run = get_run("latest", runs_dir)
    assert run.status == "running" and 2 <= run.problems_done < 8  # what SIGKILL leaves
    assert in_flight_seen >= 2  # problems really were in flight together
    before = problem_results(run.id, runs_dir).set_index("problem_id")

    assert main(["search", "--resume", run.id, "--runs-dir", runs_dir]) == 0
    run = get_run(run.id, runs_dir)
    assert (run.status, run.problems_done, run.sessions) == ("finished", 8, 2)
    after = problem_results(run.id, runs_dir).set_index("problem_id")
    assert sorted(after.index) == sorted(problems(run.id, runs_dir)["problem_id"])  # none lost
    for problem_id in before.index:  # none repeated: a problem finished before the kill kept its result row
        assert after.loc[problem_id, "ended"] == before.loc[problem_id, "ended"]
        assert after.loc[problem_id, "answer"] == before.loc[problem_id, "answer"]
    conn = sqlite3.connect(db_path(runs_dir))
    count = lambda sql: conn.execute(sql, (run.id,)).fetchone()[0]
    assert count("SELECT count(*) FROM results WHERE run_id = ?") == 8
    assert count("SELECT count(*) FROM nodes WHERE run_id = ?") == count(
        "SELECT sum(n_nodes) FROM results WHERE run_id = ?")  # no node left over from a killed attempt
    assert count("SELECT count(*) FROM (SELECT 1 FROM nodes WHERE run_id = ? GROUP BY problem_id, node_id"
                 " HAVING count(*) > 1)") == 0
    steps = [s for (s,) in conn.execute("SELECT step FROM metrics WHERE run_id = ? AND name = 'pass_rate' ORDER BY"
                                        " step", (run.id,))]
    assert steps == list(range(1, 9))
    conn.close()
    for problem_id in after.index:
        tree = load_tree(run.id, problem_id, runs_dir)
        assert tree.root.visits == 3 or tree.root.exhausted  # all rollouts spent, or nothing left to select
        assert len(tree.nodes) == after.loc[problem_id, "n_nodes"]


def test_prompts_prefilled_once_give_the_samples_of_plain_generate(tiny, monkeypatch):
    """The backend encodes each distinct prompt once, unpadded, and decodes all rows from the left-padded caches;
    the samples and log-probabilities are those of a plain padded ``generate`` (float noise aside)."""
    from o1coder.models import transformers_backend

    generator, _ = tiny
    prompts = [p.prompt for p in load_bundled()[:3]]
    params = SamplingParams(max_new_tokens=16, seed=5, logprobs=True)
    prefilled = generator.generate(prompts, params, n=2)
    monkeypatch.setattr(transformers_backend, "_CAN_BUILD_CACHE", False)
    plain = generator.generate(prompts, params, n=2)
    assert [[c.text for c in s] for s in prefilled] == [[c.text for c in s] for s in plain]
    assert [[c.token_ids for c in s] for s in prefilled] == [[c.token_ids for c in s] for s in plain]
    for a, b in zip(prefilled, plain):
        for x, y in zip(a, b):
            assert x.logprob == pytest.approx(y.logprob, abs=1e-4)


def test_a_shared_prompt_beginning_encoded_once_gives_the_greedy_completions_of_each_prompt_encoded_alone(
        tiny, monkeypatch):
    """Trees in flight send prompts that share the instruction and few-shot examples: the backend encodes that
    beginning once and each prompt's own tokens on top of it. Greedy completions are those of each prompt encoded in
    one piece (log-probabilities up to float noise), and far fewer tokens go through the model."""
    from o1coder.models import shared_prefix, transformers_backend

    generator, _ = tiny
    prompts = [pseudocode_input(p) for p in load_bundled()[:4]]  # the search's default few-shot prompt
    params = SamplingParams(temperature=0.0, max_new_tokens=24, logprobs=True)
    encoded: list[int] = []
    original = generator._encode
    monkeypatch.setattr(generator, "_encode", lambda ids, *rest: encoded.append(len(ids)) or original(ids, *rest))
    held_once: list[int] = []  # shared tokens held once while decoding
    sharing = shared_prefix.sharing
    monkeypatch.setattr(shared_prefix, "sharing",
                        lambda model, layers: held_once.append(layers[0][0].shape[2]) or sharing(model, layers))

    shared = generator.generate(prompts, params, n=2)
    shared_tokens, encoded[:] = sum(encoded), []
    assert len(held_once) == 1 and held_once[0] > 1000  # the instruction and examples, held once while decoding
    monkeypatch.setattr(transformers_backend, "_SHARE_PREFIXES", False)
    alone = generator.generate(prompts, params, n=2)
    alone_tokens = sum(encoded)
    assert len(held_once) == 1  # each prompt encoded alone: every row holds its whole prompt

    lengths = [len(generator.encode(p)) - 1 for p in prompts]  # the cache holds all but each prompt's last token
    assert alone_tokens == sum(lengths)
    assert shared_tokens < 0.4 * alone_tokens  # ~1,300 shared tokens encoded once instead of four times
    assert [[c.token_ids for c in s] for s in shared] == [[c.token_ids for c in s] for s in alone]
    for a, b in zip(shared, alone):
        for x, y in zip(a, b):
            assert x.token_logprobs == pytest.approx(y.token_logprobs, abs=1e-4)


def test_the_samples_of_one_prompt_are_encoded_in_one_piece(tiny, monkeypatch):
    """Concurrency 1 (k samples of one node) has one distinct prompt: nothing is split, so its samples are those
    of the backend before prefix sharing, bit for bit."""
    generator, _ = tiny
    prompt = pseudocode_input(load_bundled()[0])
    encoded: list[int] = []
    original = generator._encode
    monkeypatch.setattr(generator, "_encode", lambda ids, *rest: encoded.append(len(ids)) or original(ids, *rest))
    generator.generate([prompt], SamplingParams(max_new_tokens=4, seed=1), n=3)
    assert encoded == [len(generator.encode(prompt)) - 1]

