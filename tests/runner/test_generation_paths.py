"""Every generation path of the ``hf`` backend gives one-at-a-time's output, streams each
completion as soon as it is done and respects its budget; the transformers internals it relies on
are the tested release's; the speed benchmark runs end to end on a tiny model."""

from __future__ import annotations

import configparser
import logging
import random
import subprocess
import sys

import pytest
from common import REPO_ROOT

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from medsins_datasets.runner import continuous  # noqa: E402
from medsins_datasets.runner import transformers_compat as compat  # noqa: E402
from medsins_datasets.runner.backends import HFBackend, budget_batches  # noqa: E402

WORDS = "the trial measured outcome phrases of were Input: Output: case disease chemical".split()


def _slice_prompts(n_per_task: int = 2) -> list:
    """Official-protocol prompts (system + user messages, 3 shots) of the bundled real-data slice."""
    from medsins_datasets.runner.run import select_bench_tasks, slice_dir
    from medsins_datasets.prompts import iter_bench_prompts
    from medsins_datasets.sources.resolve import resolve_source

    src = resolve_source(slice_dir())
    have = set(src.task_files(None))
    out = []
    for t in select_bench_tasks(categories=["Named Entity Recognition", "Text Summarization", "Explanation"]):
        if t.config_name in have:
            out.extend(ex["prompt"] for ex in iter_bench_prompts(t, src, limit=n_per_task))
    return out


@pytest.fixture(scope="module")
def tiny():
    """A tiny Llama and its tokenizer, trained on the slice prompts' text."""
    from common import tiny_model, tiny_tokenizer

    prompts = _slice_prompts()
    tok = tiny_tokenizer([p.text for p in prompts])
    return tok, tiny_model(tok).eval(), prompts


def _workload(prompts, seed: int = 0, n_short: int = 14) -> tuple[list, list[int]]:
    """Real slice prompts plus short made-up ones, in a shuffled order (so longer prompts join a
    pool of shorter ones), with budgets from 1 to 24 new tokens."""
    rng = random.Random(seed)
    items = list(prompts) + ["Input: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30)))
                             for _ in range(n_short)]
    rng.shuffle(items)
    return items, [rng.choice([1, 2, 5, 9, 17, 24]) for _ in items]


def _backend(tok, model, batch_size: int, **kw) -> HFBackend:
    return HFBackend("tiny", batch_size=batch_size, tokenizer=tok, model_obj=model, device="cpu",
                     max_prompt_tokens=700, **kw)


def _one_at_a_time(be: HFBackend, prompts, budgets) -> dict[int, str]:
    return {i: be.generate([p], b)[0] for i, (p, b) in enumerate(zip(prompts, budgets))}


# --------------------------------------------------------------------------- the tested release


def test_transformers_release_is_the_tested_one():
    """Fails with the reason when the installed transformers is not a release the continuous
    batching was tested on, or when the cache internals it relies on changed."""
    why = compat.problem()
    assert why is None, why
    compat.check()
    cfg = configparser.ConfigParser()
    cfg.read(REPO_ROOT / "setup.cfg", encoding="utf-8")
    pins = [line.strip() for extra in ("train", "bench") for line in cfg["options.extras_require"][extra].splitlines()
            if line.strip().startswith("transformers")]
    assert pins and all(p == "transformers" + compat.TESTED_SPEC for p in pins), pins


@pytest.fixture
def fresh_compat():
    compat._problem.cache_clear()
    continuous._warned.clear()
    yield
    compat._problem.cache_clear()
    continuous._warned.clear()


def test_an_untested_release_falls_back_to_padded_generation(tiny, monkeypatch, caplog, fresh_compat):
    import transformers

    tok, model, prompts = tiny
    items, budgets = _workload(prompts[:3], n_short=4)
    be = _backend(tok, model, 3)
    alone = _one_at_a_time(be, items, budgets)
    monkeypatch.setattr(transformers, "__version__", "5.99.0")
    why = compat.problem()
    assert why and "transformers 5.99.0 is outside the range" in why and compat.TESTED_SPEC in why
    with pytest.raises(RuntimeError, match="5.99.0"):
        compat.check()
    with caplog.at_level(logging.WARNING, logger="medsins_datasets.runner.continuous"):
        assert not continuous.supports(model)
        assert dict(be.generate_iter(items, budgets)) == alone  # padded batches: slower, same output
    assert "continuous batching is off" in caplog.text and "5.99.0" in caplog.text


def test_changed_cache_internals_are_named(monkeypatch, fresh_compat):
    import transformers

    monkeypatch.setattr(transformers, "__version__", "5.24.7")

    def broken():
        raise AttributeError("'DynamicLayer' object has no attribute 'keys'")

    monkeypatch.setattr(compat, "_self_test", broken)
    why = compat.problem()
    assert why and "cache internals" in why and "no attribute 'keys'" in why


# --------------------------------------------------------------------------- float32: identical outputs


def test_every_path_equals_one_at_a_time_in_float32(tiny, monkeypatch):
    tok, model, prompts = tiny
    items, budgets = _workload(prompts)
    one = _backend(tok, model, 1)
    alone = _one_at_a_time(one, items, budgets)
    assert len(set(alone.values())) > len(items) // 2  # the outputs differ from prompt to prompt
    assert continuous.supports(model)
    for pool in (1, 3, 16, 64):
        be = _backend(tok, model, pool)
        padded = {}
        for part, b in budget_batches(budgets, pool):
            padded.update(zip(part, be.generate([items[i] for i in part], b)))
        assert padded == alone, f"padded batches of {pool}"
        streamed = list(be.generate_iter(items, budgets))
        assert sorted(i for i, _ in streamed) == list(range(len(items)))  # each prompt exactly once
        assert dict(streamed) == alone, f"continuous batching, pool of {pool}"
    be = _backend(tok, model, 4)
    # buffers outgrowing their spare columns, and a compaction after every step, change nothing
    monkeypatch.setattr(compat, "SPARE_COLUMNS", 1)
    monkeypatch.setattr(continuous, "MAX_DEAD_COLUMNS", 0)
    assert dict(be.generate_iter(items, budgets)) == alone
    # the order of the prompts changes nothing (longest first, as the runner sends them)
    order = sorted(range(len(items)), key=lambda i: (-budgets[i], -len(be.encode(items[i]))))
    assert {order[j]: t for j, t in be.generate_iter([items[i] for i in order], [budgets[i] for i in order])} == alone


def test_the_benchmark_counts_transformers_own_continuous_batching_right(tiny):
    """The benchmark's driver of transformers' continuous batching manager (per-request budgets)
    gives one-at-a-time's outputs in float32, at its CPU settings and at transformers' defaults."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        import generation_speed as gs
    finally:
        sys.path.pop(0)
    tok, model, prompts = tiny
    items, budgets = _workload(prompts[:4], n_short=6)
    be = _backend(tok, model, 4)
    alone = _one_at_a_time(be, items, budgets)
    for settings in (gs.BUILTIN_DEFAULT, {}):
        assert gs.run_builtin(be, items, budgets, settings) == alone
    assert model.config._attn_implementation == "sdpa"  # the manager gave the model back as it was


# --------------------------------------------------------------------------- streaming, budgets, fallbacks


def _finish_steps(budgets: list[int], pool: int) -> list[int]:
    """When each prompt is done without stop tokens: prompts join in order while a row is free
    (a one-token budget is done at its prefill), each step adds a token to every row."""
    finish = [0] * len(budgets)
    queue, rows, step = list(range(len(budgets))), {}, 0
    while queue or rows:
        while queue and len(rows) < pool:
            i = queue.pop(0)
            if budgets[i] == 1:
                finish[i] = step
            else:
                rows[i] = 1
        step += 1
        for i in list(rows):
            rows[i] += 1
            if rows[i] == budgets[i]:
                finish[i] = step
                del rows[i]
    return finish


def test_completions_stream_as_soon_as_done_within_their_budgets(tiny):
    tok, model, prompts = tiny
    items, budgets = _workload(prompts[:4], seed=3, n_short=12)
    be = _backend(tok, model, 3)
    ids = [be.encode(p) for p in items]
    streamed = list(continuous.greedy_stream(model, ids, budgets, pool_size=3, stop_ids=set()))
    assert sorted(i for i, _ in streamed) == list(range(len(items)))
    assert all(len(toks) == budgets[i] for i, toks in streamed)  # no stop token: exactly the budget
    finish = _finish_steps(budgets, 3)
    assert [finish[i] for i, _ in streamed] == sorted(finish[i] for i, _ in streamed)  # yielded when done
    assert len(set(finish)) > len(items) // 2  # (the order says something)
    # with the model's stop token: within the budget, and shorter only when it ends with the stop token
    eos = continuous.eos_ids(model, tok)
    for i, toks in continuous.greedy_stream(model, ids, [40] * len(ids), pool_size=3, stop_ids=eos):
        assert len(toks) <= 40 and (len(toks) == 40 or toks[-1] in eos)


def test_models_it_cannot_reproduce_use_padded_generation(tiny):
    tok, model, prompts = tiny
    items, budgets = _workload(prompts[:2], n_short=4)
    be = _backend(tok, model, 3)
    model.generation_config.repetition_penalty = 1.3  # a logits processor: plain argmax would differ
    try:
        assert not continuous.supports(model)
        assert dict(be.generate_iter(items, budgets)) == _one_at_a_time(be, items, budgets)
    finally:
        model.generation_config.repetition_penalty = 1.0
    model.config.sliding_window = 8  # sliding-window attention: the pool caches every key
    try:
        assert not continuous.supports(model)
    finally:
        del model.config.sliding_window
    assert continuous.supports(model)


# --------------------------------------------------------------------------- bfloat16


def test_bfloat16_paths_differ_from_one_at_a_time_only_at_ties(tiny):
    """In bfloat16 a batched product rounds differently from a one-row product, so a greedy choice
    between two tokens whose logits are equal to within bfloat16's resolution can go either way.
    Every batched completion has one-at-a-time's first token (the prefill is the same
    computation), and where it differs later, one-at-a-time's logits for the two tokens were tied
    to within two bfloat16 steps."""
    import copy

    tok, model, prompts = tiny
    bf = copy.deepcopy(model).to(torch.bfloat16)
    items, budgets = _workload(prompts, seed=5)
    be = _backend(tok, bf, 4)
    ids = [be.encode(p) for p in items]
    eos = continuous.eos_ids(bf, tok)
    streamed = dict(continuous.greedy_stream(bf, ids, budgets, pool_size=4, stop_ids=eos))
    padded = {}
    for part, b in budget_batches(budgets, 4):
        width = max(len(ids[i]) for i in part)
        inp = torch.tensor([[tok.pad_token_id] * (width - len(ids[i])) + ids[i] for i in part])
        att = torch.tensor([[0] * (width - len(ids[i])) + [1] * len(ids[i]) for i in part])
        out = bf.generate(input_ids=inp, attention_mask=att, max_new_tokens=b, do_sample=False,
                          pad_token_id=tok.pad_token_id)
        for i, row in zip(part, out[:, width:].tolist()):
            padded[i] = row[:next((k + 1 for k, t in enumerate(row) if t in eos), len(row))]
    same = 0
    for i, p in enumerate(ids):
        ref = bf.generate(torch.tensor([p]), max_new_tokens=budgets[i], do_sample=False, output_logits=True,
                          return_dict_in_generate=True, pad_token_id=tok.pad_token_id)
        alone = ref.sequences[0, len(p):].tolist()
        for name, got in (("continuous", streamed[i]), ("padded", padded[i])):
            if name == "continuous":
                assert got[0] == alone[0], f"prompt {i}: the first token comes from the same prefill"
            if got == alone:
                same += name == "continuous"
                continue
            j = next(k for k in range(min(len(got), len(alone))) if got[k] != alone[k])
            logits = ref.logits[j][0].float()
            step = 2.0 ** (torch.floor(torch.log2(logits.abs().max())).item() - 7)  # bfloat16 spacing there
            gap = float(logits[alone[j]] - logits[got[j]])
            assert 0 <= gap <= 2 * step, f"{name}, prompt {i}, token {j}: not a tie (gap {gap}, step {step})"
    assert same >= len(ids) // 2


# --------------------------------------------------------------------------- the benchmark script


def _bench(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "generation_speed.py"), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


def test_the_benchmark_runs_every_method_and_dtype(tiny, tmp_path):
    tok, model, _ = tiny
    d = tmp_path / "tiny-model"
    tok.save_pretrained(d)
    model.save_pretrained(d)
    r = _bench("--model", str(d), "--source", "slice", "--per-task", "1", "--limit", "3", "--max-new-tokens", "6",
               "--batch-size", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [line.split() for line in r.stdout.splitlines() if line.split()[:1] in (["prefill"], ["decode"])
            and len(line.split()) == 12]
    got = {(w, dt, m) for w, dt, m, *_ in rows}
    assert got == {(w, dt, m) for w in ("prefill", "decode") for dt in ("float32", "bfloat16")
                   for m in ("one", "padded", "continuous", "builtin")}
    for w, dt, m, wall, cpu, new, alltok, speed, same, same32, gflops, share in rows:
        assert float(wall) >= 0 and float(new) > 0 and float(gflops) > 0 and speed.endswith("x") and share.endswith("%")
        if dt == "float32":
            n = same.split("/")[1]
            assert same == same32 == f"{n}/{n}", (w, m)  # float32: every path gives one-at-a-time's outputs
    assert "matrix-product peak" in r.stdout and "float32 one-at-a-time" in r.stdout


def test_the_benchmark_refuses_bad_options_in_one_line():
    r = _bench("--backend", "vllm")
    if r.returncode != 0 or "vllm" not in sys.modules:
        assert r.returncode == 2 and "needs vLLM" in r.stderr and "Traceback" not in r.stderr
    r = _bench("--builtin", "page_size=x")
    assert r.returncode == 2 and "--builtin" in r.stderr and "Traceback" not in r.stderr
    r = _bench("--source", "staged", "--data-root", "/nonexistent/medsins-data")
    assert r.returncode == 2 and "/nonexistent/medsins-data" in r.stderr and "Traceback" not in r.stderr
