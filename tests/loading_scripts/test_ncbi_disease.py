"""The ``ncbi_disease`` converter (NCBI disease corpus, IOB copy of MTL-Bioinformatics-2016) -> task27,
on the real corpus staged in ../shared/data/bionlp_ner."""

from __future__ import annotations

from converter_helpers import check_iob_corpus_matches_the_official_rules, check_iob_corpus_real


def test_matches_the_official_rules(tmp_path):
    """Every instance on the real corpus equals the re-statement of the official NER preparation."""
    check_iob_corpus_matches_the_official_rules(tmp_path, "ncbi_disease", "NCBI-disease-IOB", "task27", 7287)

def test_real_corpus(tmp_path):
    check_iob_corpus_real(tmp_path, "ncbi_disease", "NCBI-disease-IOB", "task27")
