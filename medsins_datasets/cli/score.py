"""``medsins score``: score a file of model outputs with the official MedS-Bench rules.

The command parses its arguments and prints; reading the predictions file is
:func:`medsins_datasets.scoring.read_rows` (:mod:`medsins_datasets.scoring.inputs`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medsins_datasets.cli.argtypes import non_negative_int, probability

_EPILOG = """\
file layouts:
  JSON lines   one object per line: {"task": "medqa_en", "prediction": "...", "reference": "..."}
               ("task_id", "output" and "GT" are accepted too; "reference" may be a list,
               its first element is used; null = missing output)
  CSV          header task,prediction,reference  or the official layout task_id,input,GT,output
               (read with pandas like the official scripts: an empty cell is a missing value)

The task column holds config names (mmedbench_rationale_zh) or official ids (task51).
Scores are percentages; the 95% intervals come from a seeded bootstrap over the samples
of each task. --corrected fixes the quirks of the official rules (never compare those
numbers with the paper); see `python -c "import medsins_datasets.scoring as s; print(s.metric_path())"`
for the metric card.

examples:
  medsins score outputs.jsonl
  medsins score eval_results_MyModel.csv --json --output scores.json
  medsins score outputs.jsonl --per-task --bootstrap 0
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "score",
        help="score predictions with the official MedS-Bench rules and print the paper tables",
        description="Score a JSONL or CSV file of (task, prediction, reference) rows with the official "
        "MedS-Bench rules and print the paper's Tables 1-8 with bootstrap confidence intervals.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="predictions file (.jsonl/.json lines or .csv)")
    p.add_argument("--format", choices=["auto", "jsonl", "csv"], default="auto",
                   help="file format (default: from the extension)")
    p.add_argument("--corrected", action="store_true",
                   help="use the corrected rules (strict=False) instead of the official ones")
    p.add_argument("--bootstrap", type=non_negative_int, default=1000, metavar="N",
                   help="bootstrap resamples for the confidence intervals, 0 = none (default 1000)")
    p.add_argument("--seed", type=int, default=42, help="bootstrap seed (default 42)")
    p.add_argument("--confidence", type=probability, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--max-prediction-chars", type=non_negative_int, default=20_000, metavar="N",
                   help="cut longer predictions before BLEU/ROUGE, 0 = never (default 20000)")
    p.add_argument("--num-proc", type=non_negative_int, default=1, metavar="N",
                   help="worker processes for BLEU/ROUGE, 0 = one per CPU (default 1)")
    p.add_argument("--per-task", action="store_true", help="also print every task (CT/MRI tasks one by one)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON instead of tables")
    p.add_argument("--output", "-o", metavar="PATH", help="also write the full result as JSON to PATH")
    return p


def _write_result(path: Path, result: dict) -> None:
    """Write the result JSON; an existing file is replaced only when it is an earlier result
    (a JSON object with the result's keys), never a file of the user's."""
    if path.exists() or path.is_symlink():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            earlier = None
        if not (isinstance(earlier, dict) and {"tasks", "tables", "settings"} <= earlier.keys()):
            from medsins_datasets.errors import MedsinsError

            raise MedsinsError(f"--output {path} exists and is not a result written by `medsins score`; nothing "
                               "was changed: choose another --output")
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from medsins_datasets import scoring

    tasks, preds, refs, labels = scoring.read_rows(args.file, args.format)
    scoring.check_rows(tasks, refs, labels)
    if not 0 < args.confidence < 1:
        raise scoring.ScoringInputError("--confidence must be between 0 and 1")
    result = scoring.score(
        preds, refs, [t if isinstance(t, int) and not isinstance(t, bool) else str(t) for t in tasks],
        strict=not args.corrected,
        bootstrap=args.bootstrap,
        bootstrap_seed=args.seed,
        confidence=args.confidence,
        max_prediction_chars=args.max_prediction_chars or None,
        num_proc=args.num_proc,
    )
    if args.output:
        _write_result(Path(args.output), result)
    if args.json:
        json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    mode = "official rules" if not args.corrected else "CORRECTED rules (not comparable with the paper)"
    n = sum(e["n"] for e in result["tasks"].values())
    print(f"MedS-Bench scores for {args.file}: {len(tasks)} rows, {n} scored, "
          f"{len(result['tasks'])} task(s), {mode}\n")
    print(scoring.format_tables(result, per_task=args.per_task), end="")
    return 0
