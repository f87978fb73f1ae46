"""Training mixtures on real staged tasks: selection, caps, temperature, dedup, definitions,
few-shot rows, determinism across processes, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import datasets
import pytest
from common import (
    PICO_DEF,
    REPO_ROOT,
    pubmedqa_instances,
    shared_file,
    stage_all,
    stage_pico,
    write_task_file,
)

from medsins_datasets.errors import (
    CredentialedDataError,
    MedsinsError,
    TaskFormatError,
    UnknownTaskError,
)
from medsins_datasets.mixture import (
    PLAIN_SEPARATOR,
    MixtureSpec,
    build_mixture,
    mixture_counts,
    plan_mixture,
    render_training_row,
)
from medsins_datasets.prompts import (
    FEW_SHOT_SENTENCE,
    OFFICIAL_SENTENCE,
    render_messages,
    render_plain,
)


@pytest.fixture
def src(tmp_path) -> Path:
    return stage_all(tmp_path / "data")


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


def rows_of(spec: MixtureSpec, src: Path, cache: Path) -> list[dict]:
    return list(build_mixture(spec, src, cache_dir=cache))


def _official_defs() -> dict:
    return json.loads(shared_file("data/medsins_definitions/RewriteDefinitions.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- basics


def test_default_mixture_is_every_train_row_once(src, cache):
    spec = MixtureSpec(seed=0)
    ds = build_mixture(spec, src, cache_dir=cache)
    assert isinstance(ds, datasets.IterableDataset)
    assert list(ds.features) == ["prompt", "completion", "task", "id"]
    rows = list(ds)
    counts = Counter(r["task"] for r in rows)
    assert counts == {"pico_outcome": 40, "pubmedqa_yes_no_maybe": 60, "medqa_zh": 30}
    assert mixture_counts(spec, src, cache_dir=cache) == dict(counts)
    # each train instance exactly once, none from the test split
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids) == 130
    assert not any(i in ids for i in (f"task181-{k}" for k in range(40, 48)))
    # tasks are interleaved, not concatenated
    first = [r["task"] for r in rows[:30]]
    assert len(set(first)) == 3
    # the official MedS-Bench layout (what `medsins bench` prompts with), zero-shot: system = definition,
    # user = the input; TRL's conversational prompt-completion row
    pico = next(r for r in rows if r["id"] == "task181-0")
    inp = "Outcome results applied to life expectancy tables were used to estimate QALYs ."
    assert pico["prompt"] == [{"role": "system", "content": PICO_DEF.strip()}, {"role": "user", "content": inp}]
    assert pico["completion"] == [{"role": "assistant", "content": "QALYs"}]


def _system(row: dict) -> str:
    return row["prompt"][0]["content"]


def test_layouts_and_row_forms():
    """Every (layout, plain, format) renders the same example as documented."""
    d, inp, out = "List the outcomes.", "Sentence number 2 about pain.", " pain 2\n"
    shots = [("Sentence 1 about fever.", "fever 1")]
    off = render_messages(d, inp, shots)
    assert off[0]["content"].endswith("List the outcomes." + OFFICIAL_SENTENCE) and off[1]["content"] == (
        "Input:\n" + inp + "\nOutput:")
    assert render_training_row(d, inp, out, shots) == {"prompt": off,
                                                       "completion": [{"role": "assistant", "content": "pain 2"}]}
    assert render_training_row(d, inp, out, shots, format="messages") == {
        "messages": off + [{"role": "assistant", "content": "pain 2"}]}
    # plain text (no chat template): the official text; it ends with exactly one newline, so the answer
    # never glues to the input (the issue: '...about pain.' + 'pain 2')
    few = render_training_row(d, inp, out, shots, plain=True)
    assert few == {"prompt": render_plain(d, inp, shots), "completion": "pain 2"}
    assert few["prompt"].endswith("\nOutput:\n")  # the runner's plain text, unchanged
    zero = render_training_row(d, inp, out, plain=True)
    assert zero == {"prompt": "List the outcomes.\nSentence number 2 about pain." + PLAIN_SEPARATOR,
                    "completion": "pain 2"}
    assert render_training_row(d, inp + "  \n", out, plain=True)["prompt"] == zero["prompt"]
    # the paper's prose: one user turn, or plain text ending with the separator
    paper = "List the outcomes.\nInput: Sentence number 2 about pain."
    assert render_training_row(d, inp, out, layout="paper") == {
        "prompt": [{"role": "user", "content": paper}], "completion": [{"role": "assistant", "content": "pain 2"}]}
    assert render_training_row(d, inp, out, layout="paper", plain=True) == {"prompt": paper + "\n",
                                                                           "completion": "pain 2"}
    assert render_training_row(d, inp, out, shots, layout="paper", format="messages")["messages"][0]["content"] == (
        "Case1: Input: Sentence 1 about fever., Output: fever 1\nList the outcomes.\n" + FEW_SHOT_SENTENCE
        + "\nInput: " + inp)
    with pytest.raises(MedsinsError, match="plain rows need format 'prompt_completion'"):
        render_training_row(d, inp, out, plain=True, format="messages")


def test_layout_and_plain_in_the_spec_and_fingerprint(src, cache):
    default = MixtureSpec()
    assert (default.layout, default.plain, default.format) == ("official", False, "prompt_completion")
    prints = {}
    for kw in ({}, {"plain": True}, {"layout": "paper"}, {"layout": "paper", "plain": True}, {"format": "messages"}):
        plan = plan_mixture(MixtureSpec(tasks=["task3"], **kw), src, cache_dir=cache)
        prints[plan.fingerprint()] = kw
        assert plan.summary()["spec"]["layout"] == kw.get("layout", "official")
        feats = plan.features()
        if kw.get("format") == "messages":
            assert list(feats) == ["messages", "task", "id"]
        else:
            assert list(feats) == ["prompt", "completion", "task", "id"]
            assert isinstance(feats["prompt"], datasets.Value) == kw.get("plain", False)
        # the same examples in every form: iter_examples drives iter_rows
        ex, row = next(plan.iter_examples()), next(plan.iter_rows())
        assert {k: v for k, v in row.items() if k not in ("task", "id")} == render_training_row(
            ex.definition, ex.input, ex.output, ex.shots, **kw)
    assert len(prints) == 5  # the fingerprint covers the layout and the row form
    with pytest.raises(MedsinsError, match="'layout' must be one of"):
        MixtureSpec(layout="chatml")
    with pytest.raises(MedsinsError, match="'plain' needs format 'prompt_completion'"):
        MixtureSpec(plain=True, format="messages")
    with pytest.raises(MedsinsError, match="'plain' must be true or false"):
        MixtureSpec.from_dict({"plain": "yes"})


def test_filters_select_tasks(src, cache):
    assert set(mixture_counts(MixtureSpec(languages=["chinese"]), src, cache_dir=cache)) == {"medqa_zh"}
    assert set(mixture_counts(MixtureSpec(categories=["Information Extraction"]), src, cache_dir=cache)) == {"pico_outcome"}
    assert set(mixture_counts(MixtureSpec(domains="Academic Papers"), src, cache_dir=cache)) == {
        "pico_outcome", "pubmedqa_yes_no_maybe"}
    assert set(mixture_counts(MixtureSpec(exclude_tasks=["task3", "medqa_zh"]), src, cache_dir=cache)) == {
        "pubmedqa_yes_no_maybe"}
    assert set(mixture_counts(MixtureSpec(tasks=["task58", "pico_outcome"]), src, cache_dir=cache)) == {
        "pico_outcome", "medqa_zh"}
    # test split on request (test-only task123 joins); counts include test rows
    c = mixture_counts(MixtureSpec(splits=["train", "test"]), src, cache_dir=cache)
    assert c == {"pico_outcome": 48, "medqa_zh": 30, "pubmedqa_yes_no_maybe": 60, "pubmedqa_pqal_test": 20}


def test_errors_name_the_problem(src, cache):
    with pytest.raises(UnknownTaskError, match="pico_outcom"):
        mixture_counts(MixtureSpec(tasks=["pico_outcom"]), src, cache_dir=cache)
    with pytest.raises(MedsinsError, match=r"selects no task .*categories=\['Translation'\]"):
        mixture_counts(MixtureSpec(categories=["Translation"], languages=["Chinese"]), src, cache_dir=cache)
    with pytest.raises(MedsinsError, match=r"no task with data .*categories=\['Named Entity Recognition'\]"):
        mixture_counts(MixtureSpec(categories=["Named Entity Recognition"]), src, cache_dir=cache)
    with pytest.raises(CredentialedDataError, match=r"mimic4ed_hospitalization \(access credentialed\) are excluded by access"):
        mixture_counts(MixtureSpec(tasks=["task117"]), src, cache_dir=cache)
    with pytest.raises(MedsinsError, match="no task file for: pico_participant"):
        mixture_counts(MixtureSpec(tasks=["pico_participant"]), src, cache_dir=cache)
    with pytest.raises(MedsinsError, match=r"no train split for pubmedqa_pqal_test"):
        mixture_counts(MixtureSpec(tasks=["task123"]), src, cache_dir=cache)
    with pytest.raises(MedsinsError, match=r"unknown mixture spec key\(s\) \['temprature'\]"):
        MixtureSpec.from_dict({"tasks": ["task3"], "temprature": 2})
    for bad in ({"temperature": 0}, {"few_shot_ratio": 1.5}, {"format": "chatml"}, {"splits": ["dev"]},
                {"max_per_task": 0}, {"max_shots": 0}):
        with pytest.raises(MedsinsError, match=next(iter(bad))):
            MixtureSpec.from_dict(bad)
    assert MixtureSpec.from_dict({"tasks": "task3,task58", "seed": 4}).tasks == ["task3", "task58"]


def test_spec_from_a_file(tmp_path):
    """The one file constructor (used by `medsins mix --config` and the SFT recipe's mixture file):
    options override the file key by key, and every error names the file."""
    f = tmp_path / "mix.yaml"
    f.write_text("tasks: [task3]\ntemperature: 2.0\nseed: 3\n")
    spec = MixtureSpec.from_file(f, {"seed": 5})
    assert spec == MixtureSpec(tasks=["task3"], temperature=2.0, seed=5)
    assert MixtureSpec.from_file(f) == MixtureSpec(tasks=["task3"], temperature=2.0, seed=3)
    (tmp_path / "empty.yaml").write_text("")
    assert MixtureSpec.from_file(tmp_path / "empty.yaml") == MixtureSpec()
    f.write_text('{"temprature": 2}')  # JSON is YAML
    with pytest.raises(MedsinsError, match=r"unknown mixture spec key\(s\) \['temprature'\].*\(in .*mix\.yaml\)"):
        MixtureSpec.from_file(f)
    f.write_text("temperature: 0\n")
    with pytest.raises(MedsinsError, match=r"'temperature' must be > 0, got 0 \(in .*mix\.yaml\)"):
        MixtureSpec.from_file(f)
    with pytest.raises(MedsinsError, match=r"'seed' must be an integer, got 'x' \(in .*empty\.yaml\)"):
        MixtureSpec.from_file(tmp_path / "empty.yaml", {"seed": "x"})
    f.write_text("- task3\n")
    with pytest.raises(MedsinsError, match="mixture file .*mix.yaml must hold a mapping of MixtureSpec fields"):
        MixtureSpec.from_file(f)
    f.write_text("tasks: [task3\n")
    with pytest.raises(MedsinsError, match="mixture file .*mix.yaml is not valid YAML/JSON"):
        MixtureSpec.from_file(f)
    with pytest.raises(MedsinsError, match="cannot read mixture file .*missing.yaml"):
        MixtureSpec.from_file(tmp_path / "missing.yaml")
    with pytest.raises(MedsinsError, match="a mixture spec must be a mapping, got list"):
        MixtureSpec.from_dict(["task3"])


def test_yields_no_rows_is_an_error(tmp_path, cache):
    src = tmp_path / "src"
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", [])
    with pytest.raises(MedsinsError, match=r"yields no rows.*pubmedqa_yes_no_maybe"):
        mixture_counts(MixtureSpec(), src, cache_dir=cache)


def test_bad_task_file_fails_at_planning_naming_file(src, cache):
    bad = src / "task124_pubmedqa_yes_no_maybe.json"
    data = json.loads(bad.read_text())
    data["Instances"][5]["output"] = 5
    bad.write_text(json.dumps(data))
    with pytest.raises(TaskFormatError, match=r"task124_pubmedqa_yes_no_maybe\.json, instance 5, field 'output'"):
        build_mixture(MixtureSpec(), src, cache_dir=cache)
    counts = mixture_counts(MixtureSpec(skip_invalid=True), src, cache_dir=cache)
    assert counts["pubmedqa_yes_no_maybe"] == 59


# ---------------------------------------------------------------- sizes


def test_cap_and_temperature(src, cache):
    capped = mixture_counts(MixtureSpec(max_per_task=35), src, cache_dir=cache)
    assert capped == {"pico_outcome": 35, "pubmedqa_yes_no_maybe": 35, "medqa_zh": 30}
    # T -> large: equal shares of the same total (130)
    flat = mixture_counts(MixtureSpec(temperature=1000.0), src, cache_dir=cache)
    assert sum(flat.values()) == 130 and max(flat.values()) - min(flat.values()) <= 1
    # T=2: shares proportional to sqrt(n)
    t2 = mixture_counts(MixtureSpec(temperature=2.0, num_rows=1000), src, cache_dir=cache)
    w = {"pico_outcome": 40 ** 0.5, "pubmedqa_yes_no_maybe": 60 ** 0.5, "medqa_zh": 30 ** 0.5}
    for k, v in t2.items():
        assert abs(v - 1000 * w[k] / sum(w.values())) < 1
    assert sum(t2.values()) == 1000
    rows = rows_of(MixtureSpec(temperature=2.0, num_rows=1000), src, cache)
    assert Counter(r["task"] for r in rows) == t2
    # up-sampled: every row of a task appears floor or ceil(quota / n) times
    per_id = Counter(r["id"] for r in rows if r["task"] == "medqa_zh")
    assert set(per_id.values()) <= {t2["medqa_zh"] // 30, t2["medqa_zh"] // 30 + 1} and len(per_id) == 30
    limited = mixture_counts(MixtureSpec(temperature=2.0, num_rows=1000, max_epochs_per_task=2), src, cache_dir=cache)
    assert limited == {"pico_outcome": 80, "pubmedqa_yes_no_maybe": 120, "medqa_zh": 60}


def test_down_sampling_is_a_seeded_uniform_subset(src, cache):
    a = {r["id"] for r in rows_of(MixtureSpec(tasks=["task124"], max_per_task=10, seed=1), src, cache)}
    b = {r["id"] for r in rows_of(MixtureSpec(tasks=["task124"], max_per_task=10, seed=2), src, cache)}
    assert len(a) == len(b) == 10 and a != b
    train_ids = [i["id"] for i in pubmedqa_instances()[0][:60]]
    assert a <= set(train_ids) and not a <= set(train_ids[:20])  # not just the head of the file


# ---------------------------------------------------------------- dedup


def test_dedup_identical_definition_input_output(tmp_path, cache):
    src = tmp_path / "src"
    train = pubmedqa_instances()[0][:20]
    dups = [dict(t, id=f"copy-{t['id']}") for t in train[:5]]
    changed = [dict(train[6], id="other-answer", output=["maybe" if train[6]["output"] != ["maybe"] else "no"])]
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", train + dups + changed)
    # 26 rows: 5 copies dropped; the same instances under another task with the same definition
    # are duplicates too (first occurrence in registry order wins), under another definition not
    write_task_file(src / "task12_pubmedqa_answer_verification.json", "task124", train[:3])
    write_task_file(src / "task11_pubmedqa_qgen_with_answer.json", "task11", train[:3])
    spec = MixtureSpec(tasks=["task124", "task12", "task11"])
    counts = mixture_counts(spec, src, cache_dir=cache)
    assert counts == {"pubmedqa_qgen_with_answer": 3, "pubmedqa_answer_verification": 3, "pubmedqa_yes_no_maybe": 18}
    rows = rows_of(spec, src, cache)
    ids = {r["id"] for r in rows if r["task"] == "pubmedqa_yes_no_maybe"}
    assert "other-answer" in ids and not any(i.startswith("copy-") for i in ids)
    # registry order: task11 < task12 < task124, so task12's copies win over task124's
    assert not {t["id"] for t in train[:3]} & ids
    undup = mixture_counts(MixtureSpec(tasks=["task124", "task12", "task11"], dedup=False), src, cache_dir=cache)
    assert undup == {"pubmedqa_qgen_with_answer": 3, "pubmedqa_answer_verification": 3, "pubmedqa_yes_no_maybe": 26}


# ---------------------------------------------------------------- prompts inside mixtures


def test_rewritten_definitions_from_task_files(src, cache):
    official = _official_defs()["task3"]
    rewrites = {d.strip() for d in official["auto_rewrite_def"]}
    rows = rows_of(MixtureSpec(tasks=["task3"], rewrite_prob=1.0), src, cache)
    used = [_system(r) for r in rows]  # zero-shot official rows: the system message is the definition
    assert all(u in rewrites for u in used)
    assert len(set(used)) > 20  # sampled among the ~165 rewrites
    half = rows_of(MixtureSpec(tasks=["task3"], rewrite_prob=0.5, seed=3), src, cache)
    n_orig = sum(_system(r) == PICO_DEF.strip() for r in half)
    assert 8 <= n_orig <= 32
    assert all(_system(r) == PICO_DEF.strip() for r in rows_of(MixtureSpec(tasks=["task3"]), src, cache))
    # the paper layout samples the same definitions
    paper = rows_of(MixtureSpec(tasks=["task3"], rewrite_prob=1.0, layout="paper", plain=True), src, cache)
    assert [r["prompt"].rsplit("\nInput: ", 1)[0].strip() for r in paper] == used


def test_rewritten_definitions_from_definitions_file(tmp_path, cache):
    src = stage_pico(tmp_path / "nodefs", definitions=False)
    head = json.loads((src / "train" / "task3_pico_outcome.json").read_text())
    assert "Rewritten_Definitions" not in head
    rows = rows_of(MixtureSpec(tasks=["task3"], rewrite_prob=1.0), src, cache)
    assert all(_system(r) == PICO_DEF.strip() for r in rows)  # nothing to sample from
    defs = shared_file("data/medsins_definitions/RewriteDefinitions.json")
    rows = rows_of(MixtureSpec(tasks=["task3"], rewrite_prob=1.0, definitions_file=str(defs)), src, cache)
    rewrites = {d.strip() for d in _official_defs()["task3"]["auto_rewrite_def"]}
    assert all(_system(r) in rewrites for r in rows)
    with pytest.raises(MedsinsError, match="cannot read definitions file"):
        mixture_counts(MixtureSpec(tasks=["task3"], definitions_file=str(tmp_path / "nope.json")), src, cache_dir=cache)


def _train_inputs(src: Path) -> set[str]:
    return {i["input"] for i in json.loads((src / "train" / "task3_pico_outcome.json").read_text())["Instances"]}


def test_few_shot_rows_use_train_cases_never_self(src, cache):
    """The official layout: cases in the system message, the definition and the official sentence after
    them, the row's own input in the user message."""
    spec = MixtureSpec(tasks=["task3"], splits=["train", "test"], few_shot_ratio=0.5, max_shots=3, seed=5)
    rows = rows_of(spec, src, cache)
    train_inputs = _train_inputs(src)
    few = [r for r in rows if _system(r).startswith("Input:\n")]
    assert 12 <= len(few) <= 36
    for r in few:
        system, user = (m["content"] for m in r["prompt"])
        head, tail = system.rsplit("\n\n\n", 1)
        assert tail == PICO_DEF.strip() + OFFICIAL_SENTENCE
        assert head.startswith("Input:\n")
        cases = [c.split("\n\nOutput:\n")[0] for c in head.removeprefix("Input:\n").split("\n\n\nInput:\n")]
        assert 1 <= len(cases) <= 3 and len(cases) == head.count("\n\nOutput:\n")
        assert user.startswith("Input:\n") and user.endswith("\nOutput:")
        own = user[len("Input:\n"):-len("\nOutput:")]
        assert own not in cases and all(c in train_inputs for c in cases), cases
    zero = [r for r in rows if not _system(r).startswith("Input:\n")]
    assert all(_system(r) == PICO_DEF.strip() for r in zero)
    # max_prompt_chars measures the official plain text (as `medsins bench` does) and drops cases
    limit = len(PICO_DEF) + 300
    long = rows_of(MixtureSpec(tasks=["task3"], few_shot_ratio=1.0, max_prompt_chars=limit, plain=True), src, cache)
    assert all(len(r["prompt"]) <= limit or not r["prompt"].startswith("Input:\n") for r in long)
    assert any(r["prompt"].startswith("Input:\n") for r in long) and any(
        r["prompt"].startswith(PICO_DEF) for r in long)


def test_few_shot_rows_paper_layout(src, cache):
    spec = MixtureSpec(tasks=["task3"], splits=["train", "test"], few_shot_ratio=0.5, max_shots=3, seed=5,
                       layout="paper", plain=True)
    rows = rows_of(spec, src, cache)
    train_inputs = _train_inputs(src)
    assert all(r["prompt"].endswith("\n") and not r["prompt"].endswith("\n\n") for r in rows)  # the separator
    few = [r for r in rows if r["prompt"].startswith("Case1: ")]
    assert 12 <= len(few) <= 36
    for r in few:
        head, own = r["prompt"].split("\n" + PICO_DEF + "\n" + FEW_SHOT_SENTENCE + "\nInput: ")
        own = own.removesuffix(PLAIN_SEPARATOR)
        cases = [c.split(": Input: ", 1)[1].rsplit(", Output: ", 1)[0] for c in head.split("\n")]
        assert 1 <= len(cases) <= 3
        assert own not in cases and all(c in train_inputs for c in cases)
    zero = [r for r in rows if not r["prompt"].startswith("Case1: ")]
    assert all(r["prompt"].startswith(PICO_DEF + "\nInput: ") for r in zero)
    limit = len(PICO_DEF) + 300
    long = rows_of(MixtureSpec(tasks=["task3"], few_shot_ratio=1.0, max_prompt_chars=limit, layout="paper",
                               plain=True), src, cache)
    assert all(len(r["prompt"]) - len(PLAIN_SEPARATOR) <= limit or "Case1" not in r["prompt"] for r in long)


def test_messages_format(src, cache):
    ds = build_mixture(MixtureSpec(tasks=["task58"], format="messages"), src, cache_dir=cache)
    assert list(ds.features) == ["messages", "task", "id"]
    rows = list(ds)
    assert len(rows) == 30
    m = rows[0]["messages"]
    assert [x["role"] for x in m] == ["system", "user", "assistant"]
    assert m[0]["content"] == _official_defs()["task58"]["original_def"].strip()
    assert m[2]["content"][:3] in ("A. ", "B. ", "C. ", "D. ")
    paper = list(build_mixture(MixtureSpec(tasks=["task58"], format="messages", layout="paper"), src, cache_dir=cache))
    m = paper[0]["messages"]
    assert [x["role"] for x in m] == ["user", "assistant"]
    assert m[0]["content"].startswith(_official_defs()["task58"]["original_def"] + "\nInput: ")
    assert m[1]["content"][:3] in ("A. ", "B. ", "C. ", "D. ")


# ---------------------------------------------------------------- determinism


_SCRIPT = r"""
import json, sys
from medsins_datasets.mixture import MixtureSpec, build_mixture
from medsins_datasets.prompts import iter_bench_prompts
src, cache, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = MixtureSpec(seed=seed, temperature=2.0, num_rows=300, max_per_task=50, few_shot_ratio=0.5,
                   rewrite_prob=0.5, splits=["train"])
out = sys.stdout
for row in build_mixture(spec, src, cache_dir=cache):
    out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
for row in iter_bench_prompts("pico_outcome", src, seed=seed):
    row["prompt"] = row["prompt"].as_messages()
    out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
"""


def _run(src: Path, cache: Path, seed: int, hashseed: str) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    res = subprocess.run([sys.executable, "-c", _SCRIPT, str(src), str(cache), str(seed)],
                         capture_output=True, env=env, cwd=REPO_ROOT, timeout=300)
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def test_same_seed_byte_identical_across_processes(src, tmp_path):
    a = _run(src, tmp_path / "c1", 11, "1")
    b = _run(src, tmp_path / "c2", 11, "2")  # another hash salt, another (cold) cache
    c = _run(src, tmp_path / "c1", 11, "3")  # warm cache
    assert a == b == c
    lines = a.decode().splitlines()
    assert len(lines) == 300 + 8
    assert any(json.loads(ln)["prompt"][0]["content"].startswith("Input:\n") for ln in lines[:300])  # few-shot rows
    d = _run(src, tmp_path / "c1", 12, "1")
    assert d != a
    assert a.decode().splitlines()[300:] != d.decode().splitlines()[300:]  # bench shots differ too


def test_cache_reused_and_invalidated(src, cache):
    spec = MixtureSpec(tasks=["task124"])
    plan = plan_mixture(spec, src, cache_dir=cache)
    arrow = Path(plan.tasks[0].files[0].arrow)
    mtime = arrow.stat().st_mtime_ns
    plan_mixture(spec, src, cache_dir=cache)
    assert arrow.stat().st_mtime_ns == mtime
    f = src / "task124_pubmedqa_yes_no_maybe.json"
    data = json.loads(f.read_text())
    data["Instances"] = data["Instances"][:7]
    f.write_text(json.dumps(data))
    assert mixture_counts(spec, src, cache_dir=cache) == {"pubmedqa_yes_no_maybe": 7}


def test_split_by_node_partitions_the_stream(src, cache):
    from datasets.distributed import split_dataset_by_node

    ds = build_mixture(MixtureSpec(seed=4, few_shot_ratio=0.3), src, cache_dir=cache)
    full = list(ds)
    parts = [list(split_dataset_by_node(ds, rank=r, world_size=2)) for r in (0, 1)]
    assert parts[0] == full[0::2] and parts[1] == full[1::2]


def test_credentialed_mark_and_bad_rewrites_field(tmp_path, cache):
    src = tmp_path / "src"
    rows = pubmedqa_instances()[0][:5]
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", rows, Access="credentialed")
    with pytest.raises(CredentialedDataError, match=r"task124_pubmedqa_yes_no_maybe\.json are marked credentialed"):
        mixture_counts(MixtureSpec(), src, cache_dir=cache)
    plan = plan_mixture(MixtureSpec(access=["public", "credentialed"]), src, cache_dir=cache)
    assert plan.credentialed and plan.counts == {"pubmedqa_yes_no_maybe": 5}
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", rows, Rewritten_Definitions="oops")
    with pytest.raises(TaskFormatError, match=r"task124_pubmedqa_yes_no_maybe\.json, field 'Rewritten_Definitions'"):
        mixture_counts(MixtureSpec(), src, cache_dir=cache)


@pytest.mark.parametrize("mark", ["Credentialed", " CREDENTIALED ", ["credentialed"], ["public", "restricted"], [],
                                  "unknown", 1])
def test_access_marks_are_normalised_anything_not_public_is_credentialed(tmp_path, cache, mark):
    from medsins_datasets.registry.access import access_is_credentialed

    assert access_is_credentialed(mark)
    src = tmp_path / "src"
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", pubmedqa_instances()[0][:5], Access=mark)
    with pytest.raises(CredentialedDataError, match="marked credentialed"):
        mixture_counts(MixtureSpec(), src, cache_dir=cache)
    with pytest.raises(CredentialedDataError, match="marked credentialed"):
        mixture_counts(MixtureSpec(access=None), src, cache_dir=cache)  # null access is no opt-in


def test_null_access_never_takes_credentialed_tasks(tmp_path, cache):
    from medsins_datasets.registry.access import access_is_credentialed

    assert not access_is_credentialed(None) and not access_is_credentialed("Public")
    assert not access_is_credentialed(["public", " PUBLIC"])
    src = tmp_path / "src"
    rows = pubmedqa_instances()[0][:5]
    write_task_file(src / "task124_pubmedqa_yes_no_maybe.json", "task124", rows)
    write_task_file(src / "task41_mednli_discriminative.json", "task41", rows)
    write_task_file(src / "task117_mimic4ed_hospitalization.json", "task117", rows)
    assert mixture_counts(MixtureSpec(access=None), src, cache_dir=cache) == {"pubmedqa_yes_no_maybe": 5}
    with pytest.raises(CredentialedDataError, match="mednli_discriminative"):
        mixture_counts(MixtureSpec(access=None, tasks=["task41"]), src, cache_dir=cache)
    got = mixture_counts(MixtureSpec(access=["public", "credentialed"]), src, cache_dir=cache)
    assert got == {"mednli_discriminative": 5, "pubmedqa_yes_no_maybe": 5, "mimic4ed_hospitalization": 5}


def test_render_speed_benchmark_runs(tmp_path):
    """The benchmark script works (at a tiny size) and its mixture renders every row."""
    res = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "render_speed.py"), "--n", "3000",
                          "--workdir", str(tmp_path)], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = {ln.split("  ")[0].strip(): ln for ln in res.stdout.splitlines() if "3,000" in ln}
    assert set(lines) >= {"mixture (cold)", "mixture (warm)", "mixture (warm, few-shot)", "baseline datasets.map"}
    assert "speed vs baseline end to end" in res.stdout
