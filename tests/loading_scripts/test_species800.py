"""The ``species800`` converter (Species-800, task128) on the SELF-MADE fixture: exact outputs and
training that never reads test.tsv."""

from __future__ import annotations

from medsins_datasets.sources.converters import run_converter

from converter_helpers import (FIXTURES, NO_ENTITY, copy_fixture, instances, iob_sentences, pairs, raises_nothing_written,
                     written_splits)


def test_species800_fixture_exact_answers_untyped_tags(tmp_path):
    out = tmp_path / "o"
    run_converter("species800", FIXTURES / "species800", out)
    assert written_splits(out) == {"train": {"task128"}, "test": {"task128"}}
    assert pairs(out, "train", "task128") == [
        ("train-0", "FIXTURE Fixturus trainensis and mice seen.", ["Fixturus trainensis, mice."]),
        ("train-1", "FIXTURE plain text.", [NO_ENTITY]),
        ("devel-0", "FIXTURE human patients.", ["human."]),
    ]
    assert pairs(out, "test", "task128") == [
        ("test-0", "FIXTURE Testus secretus infects rats.", ["Testus secretus, rats."]),
        ("test-1", "FIXTURE hidden test sentence.", [NO_ENTITY]),
    ]

def test_species800_no_test_sentence_in_train(tmp_path):
    """The official preparation built task128 from test.tsv; here training must never see it."""
    raw = FIXTURES / "species800"
    out = tmp_path / "o"
    run_converter("species800", raw, out)
    train = instances(out, "train", "task128")
    test_tokens = iob_sentences(raw / "s800/test.tsv")
    train_tokens = iob_sentences(raw / "s800/train.tsv") + iob_sentences(raw / "s800/devel.tsv")
    assert len(train) == len(train_tokens) and len(instances(out, "test", "task128")) == len(test_tokens)
    assert {i.id.split("-")[0] for i in train} == {"train", "devel"}
    train_text = "\n".join(i.input + "\n" + "\n".join(i.output) for i in train)
    for sent in test_tokens:
        assert " ".join(sent[1:3]) not in train_text  # e.g. "Testus secretus", "hidden test"
    # the same holds when the test file is large and differs: changing test.tsv leaves train byte-identical
    raw2 = copy_fixture(tmp_path, "species800")
    (raw2 / "s800/test.tsv").write_text("FIXTURE\tO\nOthermus\tB\n.\tO\n")
    out2 = tmp_path / "o2"
    run_converter("species800", raw2, out2)
    a = (out / "train/task128_species800_organism_ner.json").read_bytes()
    assert (out2 / "train/task128_species800_organism_ner.json").read_bytes() == a

def test_species800_missing_test_file_is_named(tmp_path):
    raw = copy_fixture(tmp_path, "species800")
    (raw / "s800/test.tsv").unlink()
    raises_nothing_written(tmp_path, "species800", raw, r"(?s)s800/test\.tsv.*species\.jensenlab\.org")
