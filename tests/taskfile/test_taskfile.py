"""The task-file parser: real SuperNI files, chunk boundaries, and a corpus of broken inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medsins_datasets.errors import TaskFormatError, UnknownTaskError
from medsins_datasets.sources.resolve import LocalSource
from medsins_datasets.taskfile.reader import ParseStats, iter_instances, read_header

from common import shared_file

REAL = "data/superni_medical/task181_outcome_extraction.json"


def write(tmp_path: Path, name: str, content: str | bytes | dict) -> Path:
    p = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode("utf-8")
    p.write_bytes(content)
    return p


def good(n: int = 3, **extra) -> dict:
    d = {"Definition": ["Answer the question."], "Input_language": ["English"],
         "Instances": [{"id": f"x-{i}", "input": f"q{i}", "output": [f"a{i}", f"b{i}"]} for i in range(n)]}
    d.update(extra)
    return d


@pytest.mark.parametrize("chunk", [1, 7, 64, 4096, 1 << 22])
def test_real_file_matches_json_load_at_any_chunk_size(chunk):
    path = shared_file(REAL)
    ref = json.loads(path.read_text(encoding="utf-8"))
    got = list(iter_instances(path, chunk_size=chunk))
    assert len(got) == len(ref["Instances"]) == 48
    for i, (inst, r) in enumerate(zip(got, ref["Instances"])):
        assert inst.index == i
        assert inst.input == r["input"] and inst.output == r["output"]
        assert inst.id == f"task181-{i}"  # the staged sample has no ids: derived deterministically
    h = read_header(path)
    assert h.definition == ref["Definition"]
    assert h.languages("Input_language") == ["English"]
    assert "Positive Examples" in h.fields and "Instances" not in h.fields


def test_definition_list_and_metadata_after_instances(tmp_path):
    d = {"Instances": [{"input": "q", "output": ["a"]}], "Definition": ["line one", "line two"], "Source": ["x"]}
    h = read_header(write(tmp_path, "task3_a.json", d))
    # the official evaluation reads Definition[0]
    assert h.definition == "line one" and h.fields["Source"] == ["x"]


def test_numbers_cut_at_chunk_boundary(tmp_path):
    d = {"Extra": 123456789012, "Other": [1.5e10, 2], **good(1), "After": -7.25}
    p = write(tmp_path, "task3_a.json", d)
    for chunk in range(1, 40):
        h = read_header(p, chunk_size=chunk)
        assert h.fields["Extra"] == 123456789012 and h.fields["Other"] == [1.5e10, 2]
        assert len(list(iter_instances(p, chunk_size=chunk))) == 1


def _err(path, **kw) -> TaskFormatError:
    with pytest.raises(TaskFormatError) as e:
        read_header(path)
        list(iter_instances(path, **kw))
    return e.value


BROKEN = {
    "truncated": (json.dumps(good(5))[:-40], "Instances", "truncated"),
    "missing_instances": (json.dumps({"Definition": "d"}), "Instances", "missing"),
    "instances_not_list": (json.dumps({"Definition": "d", "Instances": {"a": 1}}), "Instances", "must be a list"),
    "missing_definition": (json.dumps({"Instances": [{"input": "q", "output": ["a"]}]}), "Definition", "missing"),
    "definition_not_text": (json.dumps({"Definition": 3, "Instances": []}), "Definition", "must be a string"),
    "not_an_object": ("[1, 2]", None, "one JSON object"),
    "empty_file": ("", None, "empty"),
    "trailing_garbage": (json.dumps(good(1)) + " {}", None, "after the end"),
    "bad_json": ('{"Definition": "d", "Instances": [{"input": "q", "output": ["a"]} {"x": 1}]}', "Instances", "','"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_files_name_file_and_field(tmp_path, case):
    content, field, words = BROKEN[case]
    p = write(tmp_path, f"task3_{case}.json", content)
    err = _err(p)
    assert str(p) in str(err)
    assert err.field == field
    assert words in str(err)


def test_truncated_names_instance_index(tmp_path):
    p = write(tmp_path, "task3_t.json", json.dumps(good(5))[:-40])
    err = _err(p)
    assert err.index is not None and err.index >= 3


@pytest.mark.parametrize(
    "instance,field,words",
    [
        ({"input": "q", "output": 5}, "output", "must be a string or a list of strings, got int"),
        ({"input": "q", "output": []}, "output", "empty list"),
        ({"input": "q", "output": [1]}, "output", "element 0"),
        ({"input": "q", "output": [" "]}, "output", "empty"),
        ({"input": "  ", "output": ["a"]}, "input", "is empty"),
        ({"output": ["a"]}, "input", "missing"),
        ({"input": 5, "output": ["a"]}, "input", "must be a string"),
        ({"input": "q"}, "output", "missing"),
        ({"input": "q", "output": ["a"], "id": ""}, "id", "non-empty string"),
        ("just text", None, "must be an object"),
    ],
)
def test_bad_instance_errors_and_skip_mode(tmp_path, instance, field, words):
    d = good(3)
    d["Instances"].insert(1, instance)
    p = write(tmp_path, "task3_bad.json", d)
    with pytest.raises(TaskFormatError) as e:
        list(iter_instances(p))
    assert e.value.index == 1 and e.value.field == field and words in str(e.value)
    assert str(p) in str(e.value) and "instance 1" in str(e.value)
    stats = ParseStats(str(p))
    got = list(iter_instances(p, on_error="skip", stats=stats))
    assert [g.id for g in got] == ["x-0", "x-1", "x-2"]
    assert stats.read == 3 and stats.skipped == 1
    assert words in stats.report() and "1 skipped" in stats.report()


def test_duplicate_ids_always_raise(tmp_path):
    d = good(3)
    d["Instances"][2]["id"] = "x-0"
    p = write(tmp_path, "task3_dup.json", d)
    for mode in ("raise", "skip"):
        with pytest.raises(TaskFormatError) as e:
            list(iter_instances(p, on_error=mode))
        assert "duplicate id 'x-0'" in str(e.value) and e.value.index == 2 and "instance 0" in str(e.value)


def test_non_utf8_bytes(tmp_path):
    raw = json.dumps(good(3)).encode("utf-8").replace(b'"q1"', b'"q\xff1"')
    p = write(tmp_path, "task3_latin.json", raw)
    with pytest.raises(TaskFormatError) as e:
        list(iter_instances(p, chunk_size=16))
    assert "invalid UTF-8 at byte offset" in str(e.value) and str(p) in str(e.value)
    offset = int(str(e.value).split("byte offset ")[1].split(":")[0])
    assert raw[offset] == 0xFF


def test_unknown_task_id_in_source_folder(tmp_path):
    write(tmp_path, "task3_ok.json", good(1))
    bad = write(tmp_path, "task999_mystery.json", good(1))
    with pytest.raises(UnknownTaskError) as e:
        LocalSource(tmp_path).task_files()
    assert str(bad) in str(e.value) and "task999" in str(e.value)
    assert list(LocalSource(tmp_path, ignore_unknown=True).task_files()) == ["pico_outcome"]


def test_parsing_streams_large_instances_without_loading_file(tmp_path):
    # A file much larger than the chunk: every instance is still decoded correctly.
    d = {"Definition": "d", "Instances": [{"id": str(i), "input": "x" * (i % 50 + 1) + "é", "output": ["y"]}
                                          for i in range(3000)]}
    p = write(tmp_path, "task3_big.json", json.dumps(d, ensure_ascii=False))
    got = list(iter_instances(p, chunk_size=997))
    assert len(got) == 3000 and got[2999].input == "x" * 50 + "é"


def test_duplicate_detection_with_digest_collisions(tmp_path, monkeypatch):
    """Every id hashing to one digest (a worst-case collision): the exact pass must still be right."""
    from medsins_datasets.taskfile import reader as taskfile

    monkeypatch.setattr(taskfile, "_id_digest", lambda iid: 7)
    d = good(50)
    p = write(tmp_path, "task3_many.json", d)
    assert len(list(iter_instances(p))) == 50  # only collisions: no error
    del d["Instances"][7]["id"]
    d["Instances"][30]["id"] = "task3-7"  # collides with the id derived for instance 7
    p = write(tmp_path, "task3_dup2.json", d)
    with pytest.raises(TaskFormatError) as e:
        list(iter_instances(p, id_prefix="task3"))
    assert e.value.index == 30 and "first used by instance 7" in str(e.value)
