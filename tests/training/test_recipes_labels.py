"""The recipe's training data path (mixture -> map-style dataset -> TRL) puts labels on completion
tokens only, in unpacked, packed (BFD) and padding-free batches, for chat-template rows (the
default conversational prompt-completion rows and ``format: messages``) and plain-text rows.
Real staged tasks (pico_outcome, PubMedQA, MedQA zh) mixed zero- and few-shot."""

from __future__ import annotations

import pytest

from common import stage_all

pytest.importorskip("trl")

from medsins_datasets import models as hm  # noqa: E402
from medsins_datasets import training as tr  # noqa: E402
from medsins_datasets.mixture import MixtureSpec, plan_mixture  # noqa: E402


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    root = tmp_path_factory.mktemp("labels")
    return stage_all(root / "data"), root / "cache"


def _data(staged, fmt: str):
    src, cache = staged
    form = {"plain": dict(format="prompt_completion", plain=True)}.get(fmt, dict(format=fmt))
    spec = MixtureSpec(few_shot_ratio=0.4, max_shots=2, max_prompt_chars=3000, seed=3, **form)
    ds = tr.mixture_train_dataset(plan_mixture(spec, src, cache_dir=cache), cache)
    corpus = [tr_text(r["prompt"]) + tr_text(r["completion"]) for r in ds]
    tok = hm.tiny_tokenizer(corpus, vocab_size=1024)
    if fmt == "plain":  # a model without a chat template
        tok.chat_template = None
    assert isinstance(ds[0]["prompt"], str) == (fmt == "plain")
    return ds, tok


def tr_text(x) -> str:
    return x if isinstance(x, str) else "\n".join(m["content"] for m in x)


def _expected(ds, tok) -> dict[str, str]:
    """rendered prompt -> labelled text (completion + EOS), as TRL renders them."""
    out = {}
    for r in ds:
        if isinstance(r["prompt"], str):
            out[r["prompt"]] = r["completion"] + tok.eos_token
        else:
            p = tok.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=False)
            out[p] = r["completion"][0]["content"] + tok.eos_token
    return out


def _segments(batch) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) per training sequence: batch rows, or the pieces of a flattened
    (packed / padding-free) row split where position_ids restart at 0."""
    ids, labels = batch["input_ids"], batch["labels"]
    segs = []
    if "position_ids" in batch and ids.shape[0] == 1 and "attention_mask" not in batch:
        pos = batch["position_ids"][0].tolist()
        starts = [i for i, p in enumerate(pos) if p == 0] + [len(pos)]
        for a, b in zip(starts, starts[1:]):
            segs.append((ids[0, a:b].tolist(), labels[0, a:b].tolist()))
        return segs
    for i in range(ids.shape[0]):
        keep = batch["attention_mask"][i].bool() if "attention_mask" in batch else slice(None)
        segs.append((ids[i][keep].tolist(), labels[i][keep].tolist()))
    return segs


MODES = {
    "unpacked": dict(packing=False, padding_free=False, max_length=4096, per_device_train_batch_size=6),
    "packed": dict(packing=True, max_length=2048, per_device_train_batch_size=2),
    "padding_free": dict(packing=False, padding_free=True, max_length=None, per_device_train_batch_size=6),
}


@pytest.mark.parametrize("fmt", ["prompt_completion", "messages", "plain"])
@pytest.mark.parametrize("mode", list(MODES))
def test_labels_cover_only_completion_tokens(staged, tmp_path, fmt, mode):
    from trl import SFTConfig

    ds, tok = _data(staged, fmt)
    ds, report = tr.check_prompt_lengths(ds, tok, MODES[mode]["max_length"])
    assert report.too_long == 0
    expected = _expected(ds, tok)
    args = SFTConfig(output_dir=str(tmp_path / "out"), report_to=[], bf16=False, activation_checkpointing=False,
                     use_cpu=True, max_steps=1, logging_strategy="no", save_strategy="no", dataloader_num_workers=0,
                     **MODES[mode])
    trainer = tr.make_trainer_class()(model=hm.build_tiny_model(tok), args=args,
                                      train_dataset=ds.remove_columns(["task", "id"]), processing_class=tok)
    assert trainer.completion_only_loss is not False
    seen: set[str] = set()
    n_segments = n_real = n_slots = 0
    for step, batch in enumerate(trainer.get_train_dataloader()):
        if step == 3:
            break
        n_slots += batch["input_ids"].numel()
        n_real += int(batch["attention_mask"].sum()) if "attention_mask" in batch else batch["input_ids"].numel()
        segs = _segments(batch)
        if mode != "unpacked":
            assert batch["input_ids"].shape[0] == 1 and len(segs) > 1  # several sequences per row
        for ids, labels in segs:
            n_segments += 1
            cut = next(i for i, l in enumerate(labels) if l != -100)  # first labelled token
            assert all(l == -100 for l in labels[:cut])
            assert all(l == t for l, t in zip(labels[cut:], ids[cut:])), "labels must copy the completion tokens"
            prompt = tok.decode(ids[:cut])
            assert prompt in expected, f"segment prompt is not a mixture prompt: {prompt[-200:]!r}"
            assert tok.decode(labels[cut:]) == expected[prompt]
            assert prompt not in seen
            seen.add(prompt)
    assert n_segments >= 6
    if mode == "unpacked":
        assert n_real < n_slots  # padded to the longest row
    else:
        assert n_real == n_slots  # packed / padding-free rows carry no padding
    trainer.train()  # one real step on these batches
    assert trainer.state.global_step == 1
