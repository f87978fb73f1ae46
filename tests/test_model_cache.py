"""GGUF models: quantization markers removed through transformers' public API, and the cache of
converted (de-quantized) models and tokenizers in ``$MEDSINS_CACHE/models``.

A tiny Llama GGUF (Q8_0 matrices, a byte-level BPE vocabulary with a chat template) is written
with the ``gguf`` package, so every test runs transformers' real GGUF conversion in well under
a second instead of the 15-60 s SmolLM2 takes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import pytest

pytest.importorskip("gguf")

import torch  # noqa: E402

from medsins_datasets import models as hm  # noqa: E402
from medsins_datasets.runner.backends import HFBackend, load_hf_model  # noqa: E402

CORPUS = ["Input: outcome phrases of the trial were measured", "Output: blood pressure at 12 weeks"]


def write_tiny_gguf(path: Path, seed: int = 0):
    """A 2-layer Llama as a GGUF file: matrices in Q8_0, norms in F32, and the tiny tokenizer."""
    import gguf
    from common import tiny_model, tiny_tokenizer

    tok = tiny_tokenizer(CORPUS * 4)
    model = tiny_model(tok, seed=seed)
    cfg = model.config
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny-llama")
    w.add_context_length(256)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    spec = json.loads(tok.backend_tokenizer.to_str())["model"]
    tokens = [t for t, _ in sorted(spec["vocab"].items(), key=lambda kv: kv[1])]
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([3 if t.startswith("<") and t.endswith(">") else 1 for t in tokens])
    w.add_token_merges([" ".join(m) if isinstance(m, list) else m for m in spec["merges"]])
    w.add_bos_token_id(tok.bos_token_id)
    w.add_eos_token_id(tok.eos_token_id)
    w.add_pad_token_id(tok.pad_token_id)
    w.add_chat_template(tok.chat_template)
    top = {"model.embed_tokens.weight": "token_embd", "model.norm.weight": "output_norm", "lm_head.weight": "output"}
    per_layer = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                 "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    for key, t in model.state_dict().items():
        arr = t.detach().float().numpy()
        if key in top:
            name = top[key] + ".weight"
        else:
            _, _, layer, *rest = key.split(".")
            name = f"blk.{layer}.{per_layer['.'.join(rest[:-1])]}.weight"
        if arr.ndim == 2:
            q = gguf.quants.quantize(arr, gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture(scope="module")
def gguf_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tiny-gguf")
    write_tiny_gguf(d / "tiny.Q8_0.gguf")
    return d


@pytest.fixture
def ref(gguf_dir, tmp_path) -> hm.ModelRef:
    """A private copy of the GGUF file (tests touch it) and an empty cache."""
    import shutil

    shutil.copy2(gguf_dir / "tiny.Q8_0.gguf", tmp_path / "tiny.Q8_0.gguf")
    return hm.resolve_model_ref(str(tmp_path / "tiny.Q8_0.gguf"))


@pytest.fixture(autouse=True)
def cache_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("MEDSINS_CACHE", str(root))
    monkeypatch.delenv(hm.MODEL_CACHE_ENV, raising=False)
    return root / "models"


class Conversions:
    """Counts transformers' GGUF reads: model files (config and tensors) and tokenizer files."""

    def __init__(self, monkeypatch):
        import transformers.integrations.gguf as tgguf
        import transformers.modeling_gguf_pytorch_utils as mgu

        self.model = self.tokenizer = 0
        real_ckpt, real_tok = mgu.load_gguf_checkpoint, tgguf.get_gguf_tokenizer

        def ckpt(*a, **kw):
            self.model += 1
            return real_ckpt(*a, **kw)

        def tok(*a, **kw):
            self.tokenizer += 1
            return real_tok(*a, **kw)

        monkeypatch.setattr(mgu, "load_gguf_checkpoint", ckpt)
        monkeypatch.setattr(tgguf, "get_gguf_tokenizer", tok)

    def reset(self) -> None:
        self.model = self.tokenizer = 0


@pytest.fixture
def conversions(monkeypatch) -> Conversions:
    return Conversions(monkeypatch)


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _greedy(tok, model, text: str = "Input: outcome phrases", n: int = 12) -> list[int]:
    ids = tok(text, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=n, do_sample=False, pad_token_id=tok.pad_token_id)
    return out[0, ids["input_ids"].shape[1]:].tolist()


def test_loaded_gguf_model_has_no_quantization_left_and_saves(ref, tmp_path):
    model = hm.load_gguf_model(ref, cache=False)
    assert not hasattr(model, "hf_quantizer") and not hasattr(model.config, "quantization_config")
    assert model.is_quantized is False and model.config._name_or_path == ref.name
    assert all(p.dtype == torch.float32 for p in model.parameters())
    model.save_pretrained(tmp_path / "saved")  # a quantized model refuses this
    assert "quantization_config" not in json.loads((tmp_path / "saved" / "config.json").read_text())
    from transformers import AutoModelForCausalLM

    again = AutoModelForCausalLM.from_pretrained(tmp_path / "saved")
    assert _same_weights(model, again)
    tok = hm.load_tokenizer(ref)
    assert _greedy(tok, model) == _greedy(tok, again) and len(_greedy(tok, model)) > 0


def test_clear_gguf_quantization_uses_the_quantizer(ref):
    """The GGUF quantizer's own remove_quantization_config does the clearing."""
    from transformers import AutoModelForCausalLM

    raw = AutoModelForCausalLM.from_pretrained(ref.path, gguf_file=ref.gguf_file)
    assert raw.hf_quantizer is not None and raw.config.quantization_config is not None and raw.is_quantized
    calls = []
    real = type(raw.hf_quantizer).remove_quantization_config
    raw.hf_quantizer.remove_quantization_config = lambda m: (calls.append(m), real(raw.hf_quantizer, m))
    hm.clear_gguf_quantization(raw)
    assert calls == [raw] and not hasattr(raw, "hf_quantizer") and not raw.is_quantized
    hm.clear_gguf_quantization(raw)  # nothing left to clear: no error


def test_second_load_skips_the_conversion_and_gives_the_same_model(ref, cache_root, conversions):
    direct = hm.load_gguf_model(ref, cache=False)
    conversions.reset()
    first_tok, first = hm.load_tokenizer(ref), hm.load_gguf_model(ref)
    assert conversions.model > 0 and conversions.tokenizer > 0  # the spies see the GGUF conversion
    entries = sorted(p.name for p in cache_root.iterdir() if p.is_dir())
    assert len(entries) == 2 and any(e.endswith("-tokenizer") for e in entries)
    assert all(f"-transformers{__import__('transformers').__version__}-" in e for e in entries)
    conversions.reset()
    second_tok, second = hm.load_tokenizer(ref), hm.load_gguf_model(ref)
    assert (conversions.model, conversions.tokenizer) == (0, 0)  # read from the cache, nothing converted
    assert _same_weights(direct, first) and _same_weights(first, second)
    assert second.config._name_or_path == ref.name and not hasattr(second, "hf_quantizer")
    assert second_tok.chat_template == first_tok.chat_template and second_tok.eos_token == first_tok.eos_token
    chat = second_tok.apply_chat_template([{"role": "user", "content": "Input: outcome"}], tokenize=False,
                                          add_generation_prompt=True)
    assert second_tok(chat)["input_ids"] == first_tok(chat)["input_ids"]
    assert _greedy(second_tok, second) == _greedy(first_tok, first) == _greedy(first_tok, direct)


def test_the_hf_backend_gives_the_same_completions_from_the_cache(ref, conversions):
    prompts = ["Input: outcome phrases of the trial", "Input: blood pressure"]
    first = HFBackend(str(Path(ref.path) / ref.gguf_file), batch_size=2)  # converts, fills the cache
    outputs = first.generate(prompts, 10)
    assert conversions.model > 0
    conversions.reset()
    tok, model = load_hf_model(str(Path(ref.path) / ref.gguf_file))
    assert (conversions.model, conversions.tokenizer) == (0, 0)
    cached = HFBackend(ref.name, batch_size=2, tokenizer=tok, model_obj=model)
    assert cached.generate(prompts, 10) == outputs


@pytest.mark.parametrize("damage", ["truncate", "garble", "no-record", "record-lies"])
def test_damaged_entry_is_ignored_and_rebuilt(ref, cache_root, conversions, damage, caplog):
    good = hm.load_gguf_model(ref)
    entry = hm.model_cache_dir(ref, "auto")
    weights = entry / "model.safetensors"
    data = bytearray(weights.read_bytes())
    if damage in ("truncate", "garble"):
        # a new file in its place: `good` maps the old one (rewriting a mapped file in place kills the process)
        weights.unlink()
    if damage == "truncate":  # a copy cut short
        weights.write_bytes(bytes(data[:1000]))
    elif damage == "garble":  # same size, unreadable header
        data[:64] = b"\xff" * 64
        weights.write_bytes(bytes(data))
    elif damage == "no-record":  # a partly written entry has no record yet
        (entry / "medsins_cache.json").unlink()
    else:  # a record of another file
        meta = json.loads((entry / "medsins_cache.json").read_text())
        meta["identity"]["size"] += 1
        (entry / "medsins_cache.json").write_text(json.dumps(meta))
    conversions.reset()
    caplog.set_level(logging.WARNING)
    rebuilt = hm.load_gguf_model(ref)
    assert conversions.model > 0  # converted again
    assert _same_weights(good, rebuilt)
    if damage == "garble":
        assert "unreadable" in caplog.text
    conversions.reset()
    assert _same_weights(good, hm.load_gguf_model(ref)) and conversions.model == 0  # and whole again


def test_leftover_staging_folders_are_ignored_and_removed(ref, cache_root, conversions):
    entry = hm.model_cache_dir(ref, "auto")
    stale = entry.with_name(f".{entry.name}.tmp-99999-deadbeef")
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half a file")
    hm.load_gguf_model(ref)
    assert conversions.model > 0 and not stale.exists() and (entry / "medsins_cache.json").is_file()
    assert [p.name for p in cache_root.iterdir() if p.name.startswith(".")] == []


def test_a_changed_file_version_or_dtype_never_reuses_an_entry(ref, monkeypatch, conversions):
    base = hm.model_cache_dir(ref, "auto")
    hm.load_gguf_model(ref)
    bf16 = hm.load_gguf_model(ref, dtype="bfloat16")
    assert bf16.dtype == torch.bfloat16 and hm.model_cache_dir(ref, "bfloat16") != base
    conversions.reset()
    assert hm.load_gguf_model(ref, dtype="bfloat16").dtype == torch.bfloat16 and conversions.model == 0

    import transformers

    with monkeypatch.context() as m:
        m.setattr(transformers, "__version__", "99.0.0")
        newer = hm.model_cache_dir(ref, "auto")
    assert newer != base and "-transformers99.0.0-" in newer.name
    gguf = Path(ref.path) / ref.gguf_file
    st = gguf.stat()
    os.utime(gguf, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the file was replaced
    assert hm.model_cache_dir(ref, "auto") != base
    conversions.reset()
    hm.load_gguf_model(ref)
    assert conversions.model > 0


def test_cache_can_be_turned_off_and_an_unwritable_one_is_skipped(ref, cache_root, monkeypatch, conversions,
                                                                   tmp_path, caplog):
    monkeypatch.setenv(hm.MODEL_CACHE_ENV, "0")
    hm.load_gguf_model(ref)
    hm.load_tokenizer(ref)
    assert not cache_root.exists()
    monkeypatch.delenv(hm.MODEL_CACHE_ENV)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("MEDSINS_CACHE", str(blocker / "cache"))  # mkdir under a file fails
    caplog.set_level(logging.WARNING)
    conversions.reset()
    model = hm.load_gguf_model(ref)
    assert conversions.model > 0 and "cannot use the model cache" in caplog.text
    assert not hasattr(model, "hf_quantizer")


def test_two_loads_at_once_convert_once(ref, conversions):
    results: list = []
    errors: list = []

    def load():
        try:
            results.append(hm.load_gguf_model(ref))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 2
    # one thread converted (config + tensors), the other waited for the lock and read the entry
    conversions_of_one_load = conversions.model
    conversions.reset()
    hm.load_gguf_model(ref, cache=False)
    assert conversions_of_one_load == conversions.model
    assert _same_weights(results[0], results[1])


def test_unknown_dtype_is_one_clear_error(ref):
    from medsins_datasets.errors import MedsinsError

    with pytest.raises(MedsinsError, match="unknown dtype 'float33'"):
        hm.load_gguf_model(ref, dtype="float33")
