"""The ``openai`` backend's retries through ``huggingface_hub.utils.http_backoff``, against the local
OpenAI-compatible server of ``tests/openai_server.py`` (nothing leaves 127.0.0.1).

huggingface_hub's HTTP session refuses every request in offline mode, so these tests switch its
offline flag off for the duration of each test (the server is local; nothing here calls the Hub).
"""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
from openai_server import OpenAIServer

from medsins_datasets import cli
from medsins_datasets.runner.backends import GenerationError, OpenAIBackend, RetryPolicy
from medsins_datasets.errors import MedsinsError

KEY = "sk-test-do-not-log-7f3a9c"
FAST = RetryPolicy(retries=3, backoff=0.01, max_backoff=0.05, timeout=5)


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setenv("MY_KEY", KEY)


def _backend(url: str, retry: RetryPolicy = FAST, **kw) -> OpenAIBackend:
    return OpenAIBackend("m", base_url=url, api_key_env="MY_KEY", retry=retry, **kw)


def test_rate_limit_waits_for_retry_after_then_succeeds(online):
    with OpenAIServer() as server:
        server.script.append("429:2")
        t0 = time.perf_counter()
        assert _backend(server.url).generate(["Definition\nInput: aspirin"], 8) == ["aspirin"]
        waited = time.perf_counter() - t0
    # the backoff alone would have waited 0.01 s: the 2 s come from the server's Retry-After
    assert waited >= 2.0
    assert len(server.requests) == 2
    assert all(r["auth"] == f"Bearer {KEY}" for r in server.requests)


def test_server_errors_and_request_timeouts_are_retried(online):
    with OpenAIServer() as server:
        server.script.extend(["500", "502", "503"])
        assert _backend(server.url).generate(["Input: x"], 4) == ["x"]
        assert len(server.requests) == 4
        server.requests.clear()
        server.script.append("408")
        assert _backend(server.url).generate(["Input: y"], 4) == ["y"]
        assert len(server.requests) == 2


def test_persistent_failure_names_the_url_and_status(online):
    with OpenAIServer() as server:
        server.script.extend(["503"] * 3)
        be = _backend(server.url, RetryPolicy(retries=2, backoff=0.01, timeout=5))
        with pytest.raises(GenerationError) as err:
            be.generate(["Input: x"], 4)
        assert len(server.requests) == 3  # the first attempt and 2 retries, no more
    msg = str(err.value)
    assert f"{server.url}/chat/completions failed after 3 attempts (last: HTTP 503)" == msg


def test_client_errors_fail_at_once_and_never_show_the_key(online, caplog, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_DEBUG", True)  # huggingface_hub logs each request as curl
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="huggingface_hub")
    with OpenAIServer() as server:
        server.script.extend(["echo-auth:401", "500"])
        with pytest.raises(GenerationError) as err:
            _backend(server.url).generate(["Input: x"], 4)
        assert len(server.requests) == 1  # a 401 is not retried
        assert _backend(server.url).generate(["Input: z"], 4) == ["z"]  # the 500 is, with logging on
        bad = _backend(server.url + "/nope")
        with pytest.raises(GenerationError, match=r"/nope/chat/completions answered HTTP 404"):
            bad.generate(["Input: x"], 4)
    assert "answered HTTP 401" in str(err.value) and "Bearer ***" in str(err.value)
    assert KEY not in str(err.value)
    assert "Retrying in" in caplog.text and "curl -X POST" in caplog.text  # the retry and the request were logged ...
    assert KEY not in caplog.text  # ... without the key


def test_timeouts_and_refused_connections_end_in_a_generation_error(online):
    with OpenAIServer() as server:
        server.script.append("sleep:2")
        be = _backend(server.url, RetryPolicy(retries=1, backoff=0.01, timeout=0.5))
        assert be.generate(["Input: late"], 4) == ["late"]  # the first attempt timed out, the retry answered
        server.script.extend(["sleep:2", "sleep:2"])
        with pytest.raises(GenerationError, match=r"failed after 2 attempts \(last: ReadTimeout"):
            be.generate(["Input: later"], 4)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    closed = _backend(f"http://127.0.0.1:{port}/v1", RetryPolicy(retries=1, backoff=0.01), concurrency=4)
    with pytest.raises(GenerationError, match=rf"127.0.0.1:{port}/v1/chat/completions failed after 2 attempts "
                       r"\(last: ConnectError"):
        closed.generate(["Input: a"] * 6, 4)


def test_concurrency_keeps_requests_in_flight_together(online):
    with OpenAIServer(delay=1.0) as server:
        t0 = time.perf_counter()
        out = _backend(server.url, concurrency=4).generate([f"Input: {i}" for i in range(4)], 4)
        parallel = time.perf_counter() - t0
    assert out == ["0", "1", "2", "3"]  # in the caller's order
    assert parallel < 3.0  # one at a time takes 4 s


def test_cli_options_reach_http_backoff(online, monkeypatch, tmp_path):
    """--retries and --timeout are handed to http_backoff (which does the retrying)."""
    import huggingface_hub.utils

    seen: list[dict] = []
    real = huggingface_hub.utils.http_backoff

    def spy(method, url, **kw):
        seen.append({k: kw[k] for k in ("max_retries", "timeout", "base_wait_time", "retry_on_status_codes")})
        return real(method, url, **kw)

    monkeypatch.setattr(huggingface_hub.utils, "http_backoff", spy)
    with OpenAIServer() as server:
        server.script.extend(["500"] * 10)
        code = cli.main(["bench", "--backend", "openai", "--model", "echo", "--base-url", server.url,
                         "--api-key-env", "MY_KEY", "--retries", "1", "--timeout", "7", "--tasks", "medqa_en",
                         "--limit", "1", "--bootstrap", "0", "--output", str(tmp_path / "run")])
        assert len(server.requests) == 2
    assert code == 2
    assert seen and seen[0]["max_retries"] == 1 and seen[0]["timeout"] == 7.0
    assert {429, 500, 503} <= set(seen[0]["retry_on_status_codes"])


def test_persistent_failure_is_one_line_and_exit_2(online, tmp_path, capsys):
    with OpenAIServer() as server:
        server.script.extend(["500"] * 10)
        code = cli.main(["bench", "--backend", "openai", "--model", "echo", "--base-url", server.url,
                         "--api-key-env", "MY_KEY", "--retries", "1", "--tasks", "medqa_en", "--limit", "1",
                         "--bootstrap", "0", "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{server.url}/chat/completions failed after 2 attempts (last: HTTP 500)" in err
    assert "Traceback" not in err and KEY not in err


def test_offline_mode_is_refused_clearly(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(MedsinsError, match="HF_HUB_OFFLINE=1"):
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1")
    code = cli.main(["bench", "--backend", "openai", "--model", "echo", "--base-url", "http://127.0.0.1:9/v1",
                     "--tasks", "medqa_en", "--limit", "1", "--bootstrap", "0", "--output", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach http://127.0.0.1:9/v1 with HF_HUB_OFFLINE=1" in err


# ------------------------------------------------------------------------------ --dtype auto


@pytest.fixture
def cpu_caps(monkeypatch):
    """Replace torch.cpu.get_capabilities with a given set of flags (no CUDA)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    def use(**flags):
        caps = {"architecture": "x86_64", **flags}
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: caps)

    return use


def test_auto_dtype_follows_the_cpu(cpu_caps):
    from medsins_datasets.runner.backends import resolve_dtype

    cpu_caps(avx512_bf16=True, amx_bf16=False)
    assert resolve_dtype("auto") == resolve_dtype(None) == "bfloat16"
    assert resolve_dtype("float32") == "float32"  # the exact reference, whatever the CPU
    cpu_caps(avx512_bf16=False, amx_bf16=True)
    assert resolve_dtype("auto", "cpu") == "bfloat16"
    cpu_caps(avx512_bf16=False, amx_bf16=False, avx2=True)
    assert resolve_dtype("auto") == "float32"
    assert resolve_dtype("bfloat16") == "bfloat16"  # asked for: emulated, but given
    cpu_caps(bf16=True)  # an x86 CPU has no "bf16" flag of that meaning
    assert resolve_dtype("auto") == "float32"
    cpu_caps(architecture="arm64", bf16=True)  # Arm's BF16 extension (e.g. Graviton 3)
    assert resolve_dtype("auto") == "bfloat16"
    assert resolve_dtype("auto", "mps") == "float32"
    with pytest.raises(MedsinsError, match="--dtype 'half'"):
        resolve_dtype("half")
    with pytest.raises(MedsinsError, match="--device 'gpu0' is not a torch device"):
        resolve_dtype("auto", "gpu0")


def test_auto_dtype_on_cuda(monkeypatch):
    import torch

    from medsins_datasets.runner.backends import resolve_dtype

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: not including_emulation)
    assert resolve_dtype("auto") == "bfloat16"  # default device: cuda
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert resolve_dtype("auto", "cuda:0") == "float32"  # emulated bf16 (e.g. a T4) does not count


def test_cpu_flags_without_torch_capabilities(monkeypatch):
    import torch

    from medsins_datasets.runner.backends import cpu_capabilities

    monkeypatch.delattr(torch.cpu, "get_capabilities")
    try:
        flags = open("/proc/cpuinfo", encoding="utf-8").read()
    except OSError:
        pytest.skip("no /proc/cpuinfo here")
    caps = cpu_capabilities()
    assert len(caps) > 1 and caps["architecture"]  # the flags line was read
    for flag in ("avx512_bf16", "amx_bf16", "sse2", "avx2"):
        assert bool(caps.get(flag)) == (f" {flag}" in flags)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from common import tiny_model, tiny_tokenizer

    d = tmp_path_factory.mktemp("tiny-model")
    tok = tiny_tokenizer(["Question: which drug? A. aspirin B. heparin Answer: A"] * 4)
    tok.save_pretrained(d)
    tiny_model(tok).save_pretrained(d)
    return d


def _bench(model_dir, out, *extra) -> list[str]:
    return ["bench", "--model", str(model_dir), "--tasks", "medqa_en", "--limit", "1", "--max-new-tokens", "4",
            "--bootstrap", "0", "--batch-size", "2", "--output", str(out), *extra]


def test_bench_records_the_resolved_dtype_and_refuses_to_mix(tiny_model_dir, tmp_path, cpu_caps, monkeypatch,
                                                             capsys, caplog):
    from medsins_datasets.runner import backends

    loaded: list = []
    real = backends.load_hf_model

    def spy(model, *, dtype=None):
        tok, lm = real(model, dtype=dtype)
        loaded.append((dtype, next(lm.parameters()).dtype))
        return tok, lm

    monkeypatch.setattr(backends, "load_hf_model", spy)
    import torch

    for flags, want, torch_dtype in (({"avx512_bf16": True}, "bfloat16", torch.bfloat16),
                                     ({"avx512_bf16": False}, "float32", torch.float32)):
        cpu_caps(**flags)
        out = tmp_path / want
        assert cli.main(_bench(tiny_model_dir, out)) == 0
        assert f"dtype: {want} (--dtype auto" in capsys.readouterr().out
        assert loaded[-1] == (want, torch_dtype)  # the model really ran in it
        res = json.loads((out / "results.json").read_text())
        assert res["run_settings"]["dtype"] == want
        assert json.loads((out / "run.json").read_text())["identity"]["dtype"] == want

    # the bf16 run cannot be resumed in float32 (its predictions would be mixed) ...
    assert cli.main(_bench(tiny_model_dir, tmp_path / "bfloat16", "--dtype", "float32")) == 2
    err = capsys.readouterr().err
    assert "dtype: 'bfloat16' -> 'float32'" in err and "--dtype bfloat16 to go on" in err
    # ... but the same command on the same machine finds it finished
    cpu_caps(avx512_bf16=True)
    n = len(loaded)
    assert cli.main(_bench(tiny_model_dir, tmp_path / "bfloat16")) == 0 and len(loaded) == n
    # a run file written before dtypes were recorded is resumed, with a warning
    run_file = tmp_path / "float32" / "run.json"
    doc = json.loads(run_file.read_text())
    del doc["identity"]["dtype"]
    run_file.write_text(json.dumps(doc))
    caplog.set_level(logging.WARNING)
    assert cli.main(_bench(tiny_model_dir, tmp_path / "float32", "--dtype", "float32")) == 0
    assert "before run files recorded the dtype" in caplog.text
    assert json.loads(run_file.read_text())["identity"]["dtype"] == "float32"


def test_bench_dtype_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["bench", "--device", "gpu0", "--output", str(tmp_path / "r")]) == 2
    assert "--device 'gpu0' is not a torch device" in capsys.readouterr().err
    assert cli.main(["bench", "--dtype", "half", "--output", str(tmp_path / "r")]) == 2
    assert "argument --dtype: invalid choice: 'half'" in capsys.readouterr().err
