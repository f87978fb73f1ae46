"""A mixture of real staged tasks through TRL's SFTTrainer data preparation: only completion
(assistant) tokens carry labels."""

from __future__ import annotations

from itertools import islice

import pytest

from common import stage_all
from common import tiny_model, tiny_tokenizer
from medsins_datasets.mixture import MixtureSpec, build_mixture

pytest.importorskip("trl")

BATCH = 8


def _trainer(ds, tok, tmp_path, **cfg):
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        output_dir=str(tmp_path / "out"), max_steps=1, per_device_train_batch_size=BATCH, report_to=[],
        bf16=False, activation_checkpointing=False, max_length=None, logging_strategy="no", save_strategy="no",
        use_cpu=True, dataloader_num_workers=0, **cfg,
    )
    return SFTTrainer(model=tiny_model(tok), args=args, train_dataset=ds, processing_class=tok)


def _labelled_text(tok, batch, i) -> str:
    labels = batch["labels"][i]
    return tok.decode(labels[labels != -100].tolist())


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    root = tmp_path_factory.mktemp("sft")
    return stage_all(root / "data"), root / "cache"


def test_plain_prompt_completion_mixture_only_completion_labelled(staged, tmp_path):
    """Plain-text rows (a model without a chat template): the completion follows the official text."""
    src, cache = staged
    spec = MixtureSpec(few_shot_ratio=0.5, rewrite_prob=0.3, temperature=2.0, seed=1, plain=True)
    ds = build_mixture(spec, src, cache_dir=cache)
    expected = list(islice(ds, BATCH))
    assert len({r["task"] for r in expected}) >= 2  # a real mixture in the first batch
    assert all(r["prompt"].endswith("\n") for r in expected)  # the answer starts a new token
    tok = tiny_tokenizer([r["prompt"] + r["completion"] for r in expected])
    tok.chat_template = None
    trainer = _trainer(ds, tok, tmp_path)
    assert trainer.completion_only_loss
    batch = next(iter(trainer.get_train_dataloader()))
    assert batch["input_ids"].shape[0] == BATCH
    for i, row in enumerate(expected):
        assert _labelled_text(tok, batch, i) == row["completion"] + tok.eos_token
        ids = batch["input_ids"][i][batch["attention_mask"][i] == 1]
        assert tok.decode(ids.tolist()).startswith(row["prompt"])  # same order as the mixture
        n_labelled = int((batch["labels"][i] != -100).sum())
        assert 0 < n_labelled < int(batch["attention_mask"][i].sum())
    trainer.train()  # one real optimisation step on the mixture
    assert trainer.state.global_step == 1


def test_default_mixture_is_conversational_prompt_completion(staged, tmp_path):
    """The default rows (official layout, chat turns) through the tokenizer's chat template: the prompt is
    the system and user turns with the assistant header, the labels the answer and EOS."""
    src, cache = staged
    ds = build_mixture(MixtureSpec(few_shot_ratio=0.5, seed=1), src, cache_dir=cache)
    expected = list(islice(ds, BATCH))
    assert all([m["role"] for m in r["prompt"]] == ["system", "user"] for r in expected)
    tok = tiny_tokenizer([m["content"] for r in expected for m in r["prompt"] + r["completion"]])
    trainer = _trainer(ds, tok, tmp_path)
    assert trainer.completion_only_loss
    batch = next(iter(trainer.get_train_dataloader()))
    for i, row in enumerate(expected):
        assert _labelled_text(tok, batch, i) == row["completion"][0]["content"] + tok.eos_token
        ids = batch["input_ids"][i][batch["attention_mask"][i] == 1]
        prompt = tok.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
        assert tok.decode(ids.tolist()).startswith(prompt)
    trainer.train()
    assert trainer.state.global_step == 1


def test_messages_mixture_only_assistant_labelled(staged, tmp_path):
    src, cache = staged
    ds = build_mixture(MixtureSpec(format="messages", few_shot_ratio=0.3, seed=2), src, cache_dir=cache)
    expected = list(islice(ds, BATCH))
    assert all([m["role"] for m in r["messages"]] == ["system", "user", "assistant"] for r in expected)
    tok = tiny_tokenizer([m["content"] for r in expected for m in r["messages"]])
    trainer = _trainer(ds, tok, tmp_path, assistant_only_loss=True)
    batch = next(iter(trainer.get_train_dataloader()))
    for i, row in enumerate(expected):
        assert _labelled_text(tok, batch, i) == row["messages"][-1]["content"] + tok.eos_token
