"""The ``openai`` backend's retries through ``huggingface_hub.utils.http_backoff``, against the local
OpenAI-compatible server of ``tests/openai_server.py`` (nothing leaves 127.0.0.1).

huggingface_hub's HTTP session refuses every request in offline mode, so these tests switch its
offline flag off for the duration of each test (the server is local; nothing here calls the Hub).
"""

from __future__ import annotations

import logging
import socket
import time

import pytest
from openai_server import OpenAIServer

from medsins_datasets import cli
from medsins_datasets.backends import GenerationError, OpenAIBackend, RetryPolicy
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
