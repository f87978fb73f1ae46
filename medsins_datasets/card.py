"""The dataset card (README.md) of a hub-native build: YAML metadata + a readable task table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from . import __version__
from .registry import get_task

if TYPE_CHECKING:
    from .hub_build import ConfigBuild

LANGUAGE_CODES = {
    "English": "en", "Chinese": "zh", "Japanese": "ja", "French": "fr", "Russian": "ru",
    "Spanish": "es", "German": "de", "Swedish": "sv", "Catalan": "ca",
}

#: MedS-Ins task category -> Hub task category
HUB_TASK_CATEGORIES = {
    "Text Summarization": "summarization",
    "Question Answering": "question-answering",
    "Translation": "translation",
    "Named Entity Recognition": "token-classification",
    "Text Classification": "text-classification",
    "Natural Language Inference": "text-classification",
    "Fact Verification": "text-classification",
}


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "10M<n<100M"


def card_text(configs: list["ConfigBuild"]) -> str:
    configs = sorted(configs, key=lambda c: get_task(c.config_name).number)
    tasks = [get_task(c.config_name) for c in configs]
    langs = sorted({LANGUAGE_CODES.get(lang, lang) for t in tasks for lang in t.input_languages + t.output_languages})
    cats = sorted({HUB_TASK_CATEGORIES.get(t.category, "text-generation") for t in tasks} | {"text-generation"})
    total = sum(sum(c.splits.values()) for c in configs)
    meta = {
        "pretty_name": "MedS-Ins / MedS-Bench",
        "license": "other",
        "license_name": "per-source",
        "license_link": "LICENSE-NOTICE.md",
        "language": langs,
        "task_categories": cats,
        "tags": ["medical", "biomedical", "clinical", "instruction-tuning", "medsins"],
        "size_categories": [_size_category(total)],
        "configs": [
            {
                "config_name": c.config_name,
                "data_files": [
                    {"split": split, "path": [f"{c.config_name}/{f}" for f in c.files[split]]}
                    for split in c.splits
                ],
            }
            for c in configs
        ],
    }
    rows = []
    for c, t in zip(configs, tasks):
        sizes = ", ".join(f"{s}: {n:,}" for s, n in c.splits.items())
        access = "credentialed" if c.credentialed else t.access
        rows.append(
            f"| `{c.config_name}` | {t.task_id} | {t.category} | {t.domain} | {t.source} | "
            f"{t.input_language} → {t.output_language} | {access} | {t.license or 'unknown'} | {sizes} |"
        )
    cred = [c.config_name for c in configs if c.credentialed]
    cred_note = (
        "\n**This build contains credentialed data** (" + ", ".join(cred) + "). It must not be made "
        "public; share it only with people who hold the source's data-use agreement.\n" if cred else ""
    )
    body = f"""
# MedS-Ins / MedS-Bench

Medical instruction-tuning tasks (MedS-Ins) and clinical benchmark tasks (MedS-Bench) in the
Super-NaturalInstructions task format, one config per task, built with `medsins build`
(medsins {__version__}). Each row is one instance: `definition` (the task's instruction),
`input`, `output` (the first reference answer) and `references` (all reference answers).

```python
from datasets import load_dataset
ds = load_dataset("<this repo or folder>", "pico_outcome")
```

{len(configs)} tasks, {total:,} instances.
{cred_note}
## Tasks

| config | official id | category | domain | source | languages | access | licence | instances |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

## Licences

Every task keeps the licence of its source dataset (column *licence*; see each source's
homepage). The task definitions are those of the MedS-Ins authors.

## Citation

```bibtex
@article{{wu2024towards,
  title={{Towards Evaluating and Building Versatile Large Language Models for Medicine}},
  author={{Wu, Chaoyi and Qiu, Pengcheng and Liu, Jinxin and Gu, Hongfei and Li, Na and Zhang, Ya and Wang, Yanfeng and Xie, Weidi}},
  journal={{npj Digital Medicine}},
  year={{2025}}
}}
```
"""
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + body


def write_card(out: Path, configs: list["ConfigBuild"]) -> Path:
    path = Path(out) / "README.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(card_text(configs), encoding="utf-8")
    tmp.replace(path)
    notice = Path(out) / "LICENSE-NOTICE.md"
    lines = ["# Licences of the source datasets", ""]
    seen = set()
    for c in configs:
        t = get_task(c.config_name)
        if t.source in seen:
            continue
        seen.add(t.source)
        lines.append(f"- **{t.source}** ({t.homepage or 'homepage unknown'}): {t.license or 'unknown'}")
    notice.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
