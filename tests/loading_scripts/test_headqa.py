"""The ``headqa`` converter (HEAD-QA Spanish, task129): the real release staged in ../shared/data/headqa
against the layout of the official MedS-Bench file, and the SELF-MADE fixture."""

from __future__ import annotations

import json

from common import shared_file
from medsins_datasets.sources.converters import converter_for_task, run_converter

from converter_helpers import FIXTURES, copy_fixture, instances, pairs, raises_nothing_written


def test_headqa_matches_the_official_file_layout(tmp_path):
    raw = shared_file("data/headqa/test_HEAD.json").parent
    out = tmp_path / "hq"
    counts = run_converter("headqa", raw, out)
    assert counts == {"headqa_es": {"train": 2657, "validation": 1366, "test": 2742}}
    for split, name in (("train", "train_HEAD.json"), ("validation", "dev_HEAD.json"), ("test", "test_HEAD.json")):
        data = json.loads((raw / name).read_text(encoding="utf-8"))
        expected = []
        for exam_key, exam in data["exams"].items():
            for q in exam["data"]:
                answers = sorted(q["answers"], key=lambda a: int(a["aid"]))
                letters = "ABCDE"[:len(answers)]
                gold = [int(a["aid"]) for a in answers].index(int(q["ra"]))
                expected.append((
                    f"{exam_key}-{q['qid']}",
                    f"Pregunta: {q['qtext']}\nOpciones: " + "\t".join(f"{x}: {a['atext']}" for x, a in zip(letters, answers)),
                    [f"La respuesta correcta es: {letters[gold]}: {answers[gold]['atext']}"],
                ))
        assert [(i.id, i.input, i.output) for i in instances(out, split, "task129")] == expected, split
    # the instance quoted from MCQA/task129_headqa_question_answering.jsonl
    first = instances(out, "test", "task129")[0]
    assert first.input == ("Pregunta: Forma fibras extracelulares con gran resistencia a la tensión:\n"
                           "Opciones: A: Fibronectina.\tB: Colágeno.\tC: Integrinas.\tD: Proteoglucanos.")
    assert first.output == ["La respuesta correcta es: B: Colágeno."]

def test_headqa_fixture_exact(tmp_path):
    out = tmp_path / "o"
    counts = run_converter("headqa", FIXTURES / "headqa", out)
    assert counts == {"headqa_es": {"train": 2, "validation": 1, "test": 1}}
    opts4 = "\nOpciones: A: FIXTURE opción 1\tB: FIXTURE opción 2\tC: FIXTURE opción 3\tD: FIXTURE opción 4"
    assert pairs(out, "test", "task129") == [("cuaderno_2013_1_M-7", "Pregunta: FIXTURE pregunta de prueba" + opts4,
                                            ["La respuesta correcta es: B: FIXTURE opción 2"])]
    train = pairs(out, "train", "task129")
    # options are put in aid order (the fixture lists them backwards); five-option questions keep E
    assert train[0] == ("cuaderno_2013_1_M-1", "Pregunta: FIXTURE pregunta de entrenamiento 1" + opts4,
                        ["La respuesta correcta es: C: FIXTURE opción 3"])
    assert train[1][2] == ["La respuesta correcta es: E: FIXTURE opción 5"]
    assert train[1][1].endswith("\tE: FIXTURE opción 5")
    assert "prueba" not in json.dumps(train, ensure_ascii=False)
    assert converter_for_task("task22").name == "superni"  # task22-25 (HeadQA via SuperNI) stay with superni

def test_headqa_errors(tmp_path):
    raw = copy_fixture(tmp_path, "headqa")
    data = json.loads((raw / "test_HEAD.json").read_text(encoding="utf-8"))
    data["exams"]["cuaderno_2013_1_M"]["data"][0]["ra"] = "9"
    (raw / "test_HEAD.json").write_text(json.dumps(data), encoding="utf-8")
    raises_nothing_written(tmp_path, "headqa", raw,
                            r"file test_HEAD\.json, field 'ra', exam 'cuaderno_2013_1_M', question 0: right answer 9 is not among")
    (raw / "test_HEAD.json").unlink()
    raises_nothing_written(tmp_path, "headqa", raw, r"(?s)test_HEAD\.json.*github\.com/aghie/head-qa")
