"""Helpers shared by the converter tests (``tests/loading_scripts/test_<converter>.py``, the
contract ``test_contract.py`` and ``test_framework.py``).

Fixtures (raw files laid out like each source's distribution, SELF-MADE or SYNTHETIC texts) are
in ``tests/fixtures/<source>/``; real public data is read from ``../shared/data`` through
``common.shared_file``. Test modules of this folder import them as ``from converter_helpers import ...``
(pytest puts a test module's folder on ``sys.path``); what other tests share is in ``tests/common.py``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest

from common import FIXTURES, shared_file
from medsins_datasets import get_task
from medsins_datasets import scoring as S
from medsins_datasets.cli import main
from medsins_datasets.errors import CredentialedDataError, SourceError
from medsins_datasets.sources.converters import CONVERT_MANIFEST, converter_for_task, run_converter
from medsins_datasets.taskfile.reader import iter_instances, read_header

#: the NER null answer: the published files' / scorer's spelling (the official script: "entity")
NO_ENTITY = "There is no related enetity."


# ---------------------------------------------------------------------------------------------
# running a converter and reading what it wrote
# ---------------------------------------------------------------------------------------------

def cli_convert(capsys, source: str, raw: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    """Run ``medsins convert`` in-process; returns (exit code, stdout, stderr)."""
    rc = main(["convert", source, "--data-dir", str(raw), "--out", str(out), *extra])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def task_path(out: Path, split: str, task_id: str) -> Path:
    return out / split / f"{task_id}_{get_task(task_id).config_name}.json"


def instances(out: Path, split: str, task_id: str) -> list:
    p = task_path(out, split, task_id)
    assert p.is_file(), f"{p} was not written"
    return list(iter_instances(p))


def pairs(out: Path, split: str, task_id: str) -> list[tuple]:
    """``[(id, input, output), ...]`` of one task file."""
    return [(i.id, i.input, i.output) for i in instances(out, split, task_id)]


def header_fields(out: Path, split: str, task_id: str) -> dict:
    return read_header(task_path(out, split, task_id)).fields


def manifest(out: Path) -> dict:
    return json.loads((out / CONVERT_MANIFEST).read_text(encoding="utf-8"))


def written_splits(out: Path) -> dict[str, set[str]]:
    """{split folder: {task ids}} of a converter output folder."""
    found: dict[str, set[str]] = {}
    for p in sorted(out.glob("*/task*_*.json")):
        found.setdefault(p.parent.name, set()).add(p.name.split("_", 1)[0])
    return found


def by_id(out: Path, task: str) -> dict[str, tuple[str, str, list[str]]]:
    """{instance id: (split, input, output)} over every split written for ``task``."""
    got = {}
    for split in written_splits(out):
        if any((out / split).glob(f"{task}_*.json")):
            for inst in instances(out, split, task):
                got[inst.id] = (split, inst.input, inst.output)
    return got


def hash_heldout(key: str, fraction: float) -> bool:
    """The documented hash split (sha256 of ``medsins-heldout-v1:<key>``, lowest ``fraction``)."""
    h = hashlib.sha256(f"medsins-heldout-v1:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") < fraction * 2**64


def copy_fixture(tmp_path: Path, name: str, dest: str | None = None) -> Path:
    """A writable copy of ``tests/fixtures/<name>`` at ``tmp_path/<dest>`` (default ``raw-<name>``)."""
    dst = tmp_path / (dest or f"raw-{name}")
    shutil.copytree(FIXTURES / name, dst)
    return dst


# ---------------------------------------------------------------------------------------------
# errors: named, nothing half-written, no record text leaked
# ---------------------------------------------------------------------------------------------

def raises_nothing_written(tmp_path: Path, name: str, raw: Path, match: str) -> None:
    """Converting ``raw`` fails with ``match`` and leaves neither the output nor a staging folder."""
    out = tmp_path / "o"
    with pytest.raises(SourceError, match=match):
        run_converter(name, raw, out)
    assert not out.exists() and not list(tmp_path.glob(".o.tmp-*"))


def missing_files_are_named(tmp_path: Path, source: str, expect: str) -> None:
    """An empty raw folder: the error says what is missing and nothing is written."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match=expect):
        run_converter(source, empty, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def assert_credentialed_output(out: Path) -> None:
    """Every task file carries the Access mark and the manifest says credentialed."""
    files = sorted(out.glob("*/task*_*.json"))
    assert files
    for p in files:
        assert read_header(p).fields.get("Access") == "credentialed", p
    assert manifest(out)["credentialed"] is True


def assert_push_refused(capsys, out: Path, built: Path) -> None:
    """``medsins build`` the converted folder, then the push guard must refuse a public push."""
    from medsins_datasets.builder.push import check_push_allowed

    rc = main(["build", "--source", str(out), "--out", str(built), "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "[credentialed]" in cap.out
    with pytest.raises(CredentialedDataError, match="public repo"):
        check_push_allowed(built, private=False, allow_credentialed=False)
    with pytest.raises(CredentialedDataError, match="--allow-credentialed"):
        check_push_allowed(built, private=True, allow_credentialed=False)


def assert_no_text_leak(message: str, secrets: list[str]) -> None:
    """The error message must not contain any of the record texts (nor a long piece of one)."""
    for s in secrets:
        assert s not in message
        for piece in (s[:25], s[-25:]):
            if len(piece.strip()) >= 12:
                assert piece not in message, f"record text leaked into the error: {piece!r}"


# ---------------------------------------------------------------------------------------------
# IOB NER corpora (bc5cdr, bc2gm, linnaeus, ncbi_disease, bc4chemd, species800)
# ---------------------------------------------------------------------------------------------

def raw_sentences(path: Path) -> int:
    """Number of sentences (blank-line separated blocks) of an IOB file."""
    return sum(1 for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip())


def iob_sentences(path: Path) -> list[list[str]]:
    """The tokens of every sentence of an IOB file."""
    blocks = [b for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    return [[line.split("\t")[0] for line in b.strip().splitlines()] for b in blocks]


def official_ner(path: Path) -> list[tuple[str, list[str]]]:
    """Re-statement of ``species800_named_entity_recognition.py``: (sentence, entities) per sentence."""
    data: list[tuple[str, list[str]]] = []
    words: list[str] = []
    entities: list[str] = []
    current: list[str] = []

    def sentence(ws: list[str]) -> str:
        text = ws[0] if ws else ""
        for w in ws[1:]:
            text += w if w in {".", ",", ";", ":", "?", "!"} else " " + w
        return text

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if line:
            word, tag = line.split()
            words.append(word)
            if tag[0] == "B":
                if current:
                    entities.append(" ".join(current))
                current = [word]
            elif tag[0] == "I" and current:
                current.append(word)
            elif tag[0] == "O" and current:
                entities.append(" ".join(current))
                current = []
        else:
            if current:
                entities.append(" ".join(current))
            if words:
                data.append((sentence(words), entities))
            words, entities, current = [], [], []
    return data


def official_instances(folder: Path, files: tuple[str, ...]) -> dict[str, tuple[str, list[str]]]:
    """{<file stem>-<k>: (input, entities)} for the files that build one split."""
    return {f"{Path(name).stem}-{k}": inst for name in files if (folder / name).is_file()
            for k, inst in enumerate(official_ner(folder / name))}


SPLIT_FILES = {"train": ("train.tsv", "devel.tsv"), "test": ("test.tsv",)}


def check_list_task(out: Path, task: str, folder: Path, splits: tuple[str, ...]) -> int:
    """Every instance = the official sentence and ``", ".join(entities) + "."`` (duplicates kept)."""
    n = 0
    for split in splits:
        expected = official_instances(folder, SPLIT_FILES[split])
        got = [(i.id, i.input, i.output) for i in instances(out, split, task)]
        assert [g[0] for g in got] == list(expected), (task, split)  # same sentences, same order
        for iid, inp, outp in got:
            text, ents = expected[iid]
            assert inp == text, (task, iid)
            assert outp == [", ".join(ents) + "." if ents else NO_ENTITY], (task, iid)
        n += len(got)
    return n


def check_superni_task(out: Path, task: str, folder: Path) -> int:
    """SuperNI style: only sentences with a mention; their distinct mentions (exact) as answers."""
    n = 0
    for split in ("train", "test"):
        expected = {k: v for k, v in official_instances(folder, SPLIT_FILES[split]).items() if v[1]}
        got = [(i.id, i.input, i.output) for i in instances(out, split, task)]
        assert [g[0] for g in got] == list(expected), (task, split)
        for iid, inp, outp in got:
            text, ents = expected[iid]
            assert (inp, outp) == (text, list(dict.fromkeys(ents))), (task, iid)
        n += len(got)
    return n


def check_iob_corpus_matches_the_official_rules(tmp_path: Path, name: str, folder: str, task: str,
                                                n_sentences: int) -> None:
    """A SuperNI-style IOB converter (ncbi_disease, bc2gm, linnaeus) on the real staged corpus:
    every instance equals the re-statement of the official rules."""
    raw = shared_file(f"data/bionlp_ner/{folder}/test.tsv").parent.parent
    out = tmp_path / name
    run_converter(name, raw, out)
    n = check_superni_task(out, task, raw / folder)
    total = sum(len(official_instances(raw / folder, files)) for files in SPLIT_FILES.values())
    assert total == n_sentences and 0 < n < total


def check_iob_corpus_real(tmp_path: Path, name: str, folder: str, task: str) -> None:
    """A SuperNI-style IOB converter on the real staged corpus: splits from their files, only
    sentences with a mention, distinct accepted answers."""
    raw = shared_file(f"data/bionlp_ner/{folder}/test.tsv").parent.parent
    out = tmp_path / name
    counts = run_converter(name, raw, out)
    assert written_splits(out) == {"train": {task}, "test": {task}}
    train, test = instances(out, "train", task), instances(out, "test", task)
    assert {i.id.split("-")[0] for i in train} <= {"train", "devel"} and {i.id.split("-")[0] for i in test} == {"test"}
    assert 0 < len(test) < raw_sentences(raw / folder / "test.tsv")  # only sentences with a mention
    assert all(i.output and len(i.output) == len(set(i.output)) for i in train + test)
    assert sum(counts[next(iter(counts))].values()) == len(train) + len(test)
    assert converter_for_task(task) is not None


# ---------------------------------------------------------------------------------------------
# MCQA test sets staged from aistairc/medLLM_QA_benchmark (medqa, medmcqa)
# ---------------------------------------------------------------------------------------------

def check_mcqa_real_counts_and_answers(tmp_path: Path, name: str, file: str, task: str, size: int) -> None:
    """The real test file converted: the paper's size, the official file layout, texts untouched,
    and what the official MCQA rule makes of the gold answers."""
    path = shared_file(f"data/medqa_medmcqa/{file}")
    out = tmp_path / name
    run_converter(name, path.parent, out)
    insts = instances(out, "test", task)
    assert len(insts) == size  # the paper's test-set sizes
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = {"task57": ("Question", "Options", "The right answer is"), "task58": ("问题", "选项", "正确答案是")}
    for inst, row in zip(insts, rows):
        letter = row["answer"][0].upper()
        gold = row["choices"]["ABCD".index(letter)]
        if task == "task122":  # the layout of MCQA/task122_medmcqa_test_set.json
            assert inst.input == ("Question: " + row["problem_text"] + "\nOptions:\n"
                                  + "\n".join(f"{x}. {c}" for x, c in zip("ABCD", row["choices"])))
            assert inst.output == [f"The right answer is {letter}: {gold}"]
        else:  # the layout of MCQA/task57_*.jsonl / task58_*.jsonl, texts untouched
            q, o, prefix = labels[task]
            assert inst.input == f"{q}: {row['problem_text']}\n{o}: " + "\t".join(
                f"{x}: {c}" for x, c in zip("ABCD", row["choices"]))
            assert inst.output == [f"{prefix} {letter}: {gold}"]
        if task != "task58":  # the official rule strips only the English prefix (documented in _mcqa.py)
            assert S.mcqa_correct(inst.output[0], inst.output[0])
            assert not S.mcqa_correct("ABCD"[("ABCD".index(letter) + 1) % 4], inst.output[0])
        else:
            assert not S.mcqa_correct(inst.output[0], inst.output[0])
    assert "train" not in written_splits(out)  # test files never become training data
    # the first Chinese / MedMCQA questions give exactly the instances quoted from the official files
    if task == "task58":
        assert insts[0].input.startswith("问题: 经调查证实出现医院感染流行时") and insts[0].output == ["正确答案是 D: 24小时内"]
        assert insts[0].input.endswith("\n选项: A: 2小时\tB: 4小时内\tC: 12小时内\tD: 24小时内")


# ---------------------------------------------------------------------------------------------
# MIMIC-IV-Note fixture (mimic_iv_note_radiology, mimic_iv_note_discharge)
# ---------------------------------------------------------------------------------------------

MIMIC_IV_NOTE = FIXTURES / "mimic_iv_note"


def note_texts(name: str) -> list[str]:
    """The ``text`` column of a SYNTHETIC MIMIC-IV-Note file (``radiology.csv.gz``, ``discharge.csv.gz``)."""
    with gzip.open(MIMIC_IV_NOTE / name, "rt", encoding="utf-8", newline="") as f:
        return [r["text"] for r in csv.DictReader(f)]


def damaged_gzip_copy(tmp_path: Path, name: str, edit) -> Path:
    """``tmp_path/raw/<name>``: the fixture's gzipped CSV with its rows passed through ``edit``."""
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    with gzip.open(MIMIC_IV_NOTE / name, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows = edit(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (raw / name).write_bytes(gzip.compress(buf.getvalue().encode("utf-8")))
    return raw
