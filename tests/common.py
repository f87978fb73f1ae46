"""Shared test helpers, in one module: where the real data is, and how tests stage task files,
tiny models and recipes. Pytest fixtures are in ``conftest.py``; fake services (a Hub, an
OpenAI-compatible server) in ``fakehub.py`` and ``openai_server.py``."""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import pytest

# --------------------------------------------------------------------------- real data

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MEDSINS_SHARED", REPO_ROOT.parent / "shared"))



def shared_file(rel: str) -> Path:
    """Path of ``../shared/<rel>``; skip (or fail under MEDSINS_REQUIRE_SHARED=1) if missing."""
    p = SHARED / rel
    if not p.exists():
        msg = f"real data {p} is not available (../shared is absent or incomplete)"
        if os.environ.get("MEDSINS_REQUIRE_SHARED") == "1":
            pytest.fail(msg + " and MEDSINS_REQUIRE_SHARED=1")
        pytest.skip(msg)
    return p


#: raw files laid out like each source's distribution (self-made or synthetic texts), per source
FIXTURES = REPO_ROOT / "tests" / "fixtures"

#: the real SuperNI outcome-extraction task file
OUTCOME_FILE = "data/superni_medical/task181_outcome_extraction.json"


# --------------------------------------------------------------------------- task files

PICO_DEF = (
    "In medical studies, treatments are tested within a group of study participants. To determine if a new "
    "treatment works, various outcomes are measured in the people who take part in the study. You will be given "
    "a sentence of a study report in which your task is to list the phrases that give information about the "
    "outcomes of the study. You should list the phrases in the same order that they appear in the text, separated "
    'by commas. If no information about the outcome is mentioned, just answer with: "not found".\n Outcomes '
    "contain: outcomes measured in patients: like blood sugar,\n outcomes regarding the intervention: like "
    "effectiveness, costs\n the score on a medical test or questionnaire,\n positive or negative events in the "
    "patient groups: like quitting smoking, or adverse reactions.\n Do not mention numbers or results, "
    "interpretations of outcomes, outcome mentions without relevant information."
)


PICO_TEST = 8  # instances moved from the converted file to the test split


def _split_task_file(path: Path, test_path: Path, n_test: int) -> None:
    """Move the last ``n_test`` instances of a task file into a test-split file (same header)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    inst = data["Instances"]
    train, test = dict(data, Instances=inst[:-n_test]), dict(data, Instances=inst[-n_test:])
    test_path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(train, ensure_ascii=False), encoding="utf-8")
    test_path.write_text(json.dumps(test, ensure_ascii=False), encoding="utf-8")


def stage_pico(root: Path, *, definitions: bool = True) -> Path:
    """task3 pico_outcome from the real SuperNI file through the real converter; 40 train / 8 test."""
    from medsins_datasets.sources.converters import run_converter

    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared_file("data/superni_medical/task181_outcome_extraction.json"), raw)
    out = root / "src"
    defs = shared_file("data/medsins_definitions/RewriteDefinitions.json") if definitions else None
    run_converter("superni", raw, out, definitions=defs)
    _split_task_file(out / "train" / "task3_pico_outcome.json", out / "test" / "task3_pico_outcome.json", PICO_TEST)
    return out


def pubmedqa_instances() -> tuple[list[dict], list[dict]]:
    """Real PubMedQA PQA-L instances: (non-test, test), in the file's order, with PubMed ids."""
    data = json.loads(shared_file("data/pubmedqa/ori_pqal.json").read_text(encoding="utf-8"))
    test_ids = set(json.loads(shared_file("data/pubmedqa/test_ground_truth.json").read_text(encoding="utf-8")))

    def inst(pmid: str, e: dict) -> dict:
        ctx = " ".join(e["CONTEXTS"])
        return {"id": f"pqal-{pmid}", "input": f"Context: {ctx}\nQuestion: {e['QUESTION']}",
                "output": [e["final_decision"]]}

    train = [inst(k, v) for k, v in data.items() if k not in test_ids]
    test = [inst(k, v) for k, v in data.items() if k in test_ids]
    return train, test


def write_task_file(path: Path, task_id: str, instances: list[dict], **header) -> Path:
    """A task file with the official original definition of ``task_id``."""
    defs = json.loads(shared_file("data/medsins_definitions/RewriteDefinitions.json").read_text(encoding="utf-8"))
    body = {"Definition": header.pop("definition", None) or defs[task_id]["original_def"],
            "Input_language": ["English"], "Output_language": ["English"], **header, "Instances": instances}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def stage_pubmedqa(src: Path, *, n_train: int = 60, n_test: int = 20, leak: int = 0) -> Path:
    """task124 (train, PQA-L minus its test ids) and test-only task123 (PQA-L test) in ``src``.

    ``leak`` copies that many test instances into the training file (under new ids), as the
    official Species-800 script did with its test file.
    """
    train, test = pubmedqa_instances()
    test = test[:n_test]
    train = train[:n_train] + [dict(t, id=f"leak-{t['id']}") for t in test[:leak]]
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", train)
    # task123 has no official definition in RewriteDefinitions.json: it uses task124's
    write_task_file(src / "test" / "task123_pubmedqa_pqal_test.json", "task124", test)
    return src



def mcqa_instances(name: str, n: int) -> list[dict]:
    """Real MedQA questions rendered as 'question + options' -> 'letter. option'."""
    out = []
    with open(shared_file(f"data/medqa_medmcqa/{name}.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i == n:
                break
            q = json.loads(line)
            choices = q["choices"] if isinstance(q["choices"], list) else ast.literal_eval(q["choices"])
            answer = (q["answer"] if isinstance(q["answer"], list) else ast.literal_eval(q["answer"]))[0]
            opts = "\n".join(f"{chr(65 + j)}. {c}" for j, c in enumerate(choices))
            out.append({"id": f"{name}-{q['problem_id']}", "input": f"{q['problem_text']}\n{opts}",
                        "output": [f"{answer.upper()}. {choices[ord(answer) - 97]}"]})
    return out


def stage_all(root: Path) -> Path:
    """pico_outcome (40 train / 8 test), pubmedqa_yes_no_maybe (60 train) + task123 test (20),
    medqa_zh (30, Chinese): every instance is real data."""
    src = stage_pico(root)
    stage_pubmedqa(src)
    write_task_file(src / "train" / "task58_medqa_zh.json", "task58", mcqa_instances("medqa_zh_4op", 30),
                    Input_language=["Chinese"], Output_language=["Chinese"])
    return src



def stage_outcome_source(tmp_path: Path) -> Path:
    """The real SuperNI outcome-extraction file split into train (40) and test."""
    root = tmp_path / "src"
    (root / "test").mkdir(parents=True)
    raw = json.loads(shared_file(OUTCOME_FILE).read_text(encoding="utf-8"))
    train, test = dict(raw), dict(raw)
    train["Instances"], test["Instances"] = raw["Instances"][:40], raw["Instances"][40:]
    (root / "task3_pico_outcome.json").write_text(json.dumps(train), encoding="utf-8")
    (root / "test" / "task3_pico_outcome.json").write_text(json.dumps(test), encoding="utf-8")
    return root



TINY_CONFIG = REPO_ROOT / "recipes" / "tiny" / "sft" / "config.yaml"


def stage_superni(root: Path) -> Path:
    """The real SuperNI task181 file converted to a MedS-Ins task folder (train/task3_pico_outcome.json)."""
    from medsins_datasets.sources.converters import run_converter

    raw = shared_file("data/superni_medical/task181_outcome_extraction.json").parent
    out = root / "src"
    run_converter("superni", raw, out)
    assert (out / "train" / "task3_pico_outcome.json").is_file()
    return out


def base_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1",
                "HF_HOME": str(tmp / "hf_home"), "MEDSINS_CACHE": str(tmp / "medsins_cache"),
                "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"})
    return env


# --------------------------------------------------------------------------- tiny models



from typing import Iterable

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + eos_token }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def tiny_tokenizer(corpus: Iterable[str] = (), vocab_size: int = 512):
    """A byte-level BPE tokenizer trained on ``corpus`` (plus a little fixed text)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<s>", "</s>", "<unk>", "<|user|>", "<|assistant|>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    base = ["Input: Output: Case1: Case2: Case3: Please learn from the few-shot cases."]
    tok.train_from_iterator(list(base) + list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_model(tokenizer, *, hidden_size: int = 64, layers: int = 2, seed: int = 0):
    """A randomly initialised 2-layer Llama sized for ``tokenizer``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    return LlamaForCausalLM(cfg)
