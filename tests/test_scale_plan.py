"""Sizing search actors from the recipe's model and the cluster, and the `search --ray` options (no Ray needed)."""

from __future__ import annotations

import pytest

from o1coder.cli import build_parser, main
from o1coder.config import ModelConfig
from o1coder.scale.cluster import ActorPlan, actor_env, plan_actors


def model(**kwargs) -> ModelConfig:
    return ModelConfig(**kwargs)


def test_vllm_actors_take_tensor_parallel_gpus_each_and_a_share_of_the_cpus():
    vllm = model(backend="vllm", name_or_path="Qwen/Qwen2.5-Coder-7B-Instruct")
    assert plan_actors(vllm, {"CPU": 128, "GPU": 8}, problems=1000) == ActorPlan(8, 8.0, 1.0)
    tp2 = model(backend="vllm", name_or_path="m", tensor_parallel_size=2)
    assert plan_actors(tp2, {"CPU": 16, "GPU": 8}, problems=1000) == ActorPlan(4, 4.0, 2.0)
    assert plan_actors(vllm, {"CPU": 16, "GPU": 1}, problems=1000, actor_cpus=4) == ActorPlan(1, 4.0, 1.0)
    with pytest.raises(ValueError, match="vllm backend needs GPUs"):
        plan_actors(vllm, {"CPU": 16}, problems=10)


def test_cpu_actors_fill_the_cluster_but_never_outnumber_the_problems():
    tiny = model(backend="transformers", name_or_path="tiny", device="cpu")
    assert plan_actors(tiny, {"CPU": 2}, problems=10) == ActorPlan(2, 1.0, 0.0)
    assert plan_actors(tiny, {"CPU": 64, "GPU": 8}, problems=3) == ActorPlan(3, 1.0, 0.0)  # device cpu: no GPU
    assert plan_actors(tiny, {"CPU": 8}, problems=10, actor_cpus=2) == ActorPlan(4, 2.0, 0.0)
    assert plan_actors(tiny, {"CPU": 2}, problems=10, actors=5).count == 5  # more than fit: they queue in Ray
    server = model(backend="openai", name_or_path="m", base_url="http://h:8000/v1")
    assert plan_actors(server, {"CPU": 32, "GPU": 8}, problems=100) == ActorPlan(32, 1.0, 0.0)
    with pytest.raises(ValueError, match="cannot hold one search actor"):
        plan_actors(tiny, {"CPU": 1}, problems=10, actor_cpus=2)


def test_transformers_on_cuda_takes_one_gpu_per_actor():
    auto = model(backend="transformers", name_or_path="m", device="auto")
    assert plan_actors(auto, {"CPU": 16, "GPU": 2}, problems=10) == ActorPlan(2, 8.0, 1.0)
    assert plan_actors(auto, {"CPU": 4}, problems=10).num_gpus == 0.0  # auto on a CPU cluster
    with pytest.raises(ValueError, match="no GPU"):
        plan_actors(model(backend="transformers", name_or_path="m", device="cuda"), {"CPU": 4}, problems=1)


def test_actors_see_where_models_and_caches_are(monkeypatch):
    monkeypatch.setenv("O1CODER_MODELS_DIR", "/models")
    monkeypatch.setenv("SECRET_TOKEN", "x")
    env = actor_env()
    assert env["O1CODER_MODELS_DIR"] == "/models" and "SECRET_TOKEN" not in env


def test_search_takes_ray_with_or_without_an_address():
    parse = build_parser().parse_args
    base = ["search", "--recipe", "tiny-cpu", "--problems", "bundled"]
    assert parse([*base, "--ray"]).ray == "local"
    assert parse([*base, "--ray", "ray://head:10001", "--actors", "4"]).ray == "ray://head:10001"
    assert parse(base).ray is None


def test_actor_options_without_ray_are_an_error(capsys):
    assert main(["search", "--recipe", "tiny-cpu", "--problems", "bundled", "--actors", "2"]) == 2
    assert "add --ray" in capsys.readouterr().err


def test_a_local_node_that_misses_its_startup_deadline_is_started_again(monkeypatch):
    from o1coder.scale import cluster
    from o1coder.scale.cluster import start_local

    monkeypatch.setattr(cluster, "RETRY_PAUSE_S", 0.0)

    class FlakyRay:
        def __init__(self, failures, message="The current node timed out during startup."):
            self.failures, self.message, self.calls = failures, message, []

        def init(self, **kwargs):
            self.calls.append(("init", kwargs))
            if len(self.calls) <= 2 * self.failures and self.calls.count(("shutdown", {})) < self.failures:
                raise Exception(self.message)  # what Ray raises

        def shutdown(self):
            self.calls.append(("shutdown", {}))

    once = FlakyRay(failures=1)
    start_local(once, num_cpus=2)
    assert [c[0] for c in once.calls] == ["init", "shutdown", "init"] and once.calls[-1][1] == {"num_cpus": 2}
    twice = FlakyRay(failures=2)
    start_local(twice, num_cpus=2)
    assert [c[0] for c in twice.calls] == ["init", "shutdown", "init", "shutdown", "init"]
    always = FlakyRay(failures=5)
    with pytest.raises(Exception, match="timed out during startup"):
        start_local(always, num_cpus=2)
    assert [c[0] for c in always.calls].count("init") == cluster.START_ATTEMPTS == 3
    other = FlakyRay(failures=1, message="port 6379 is taken")
    with pytest.raises(Exception, match="port 6379"):
        start_local(other, num_cpus=2)
    assert [c[0] for c in other.calls] == ["init"]  # only the startup deadline is worth a second try
