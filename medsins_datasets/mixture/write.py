"""Writing a mixture as a hub-native dataset folder: Parquet shards, a dataset card
(``templates/mixture_card.md``) and a manifest (``.medsins_mix.json``), published atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from medsins_datasets._files import check_own_folder, check_replaceable, discard, new_staging, publish
from medsins_datasets.errors import MedsinsError
from medsins_datasets.mixture.plan import MixturePlan
from medsins_datasets.mixture.spec import MixtureSpec
from medsins_datasets.progress import bar as progress_bar

MIX_MANIFEST = ".medsins_mix.json"
MIX_SHARD_ROWS = 250_000
_WRITE_BATCH = 2_000


def _describe_rows(spec: MixtureSpec) -> str:
    if spec.format == "messages":
        form = "TRL's conversational format: chat turns for the model's chat template"
    elif spec.plain:
        form = "TRL's prompt-completion format, plain text for a model without a chat template"
    else:
        form = "TRL's conversational prompt-completion format: chat turns for the model's chat template"
    if spec.layout == "official":
        how = ("prompts in the official MedS-Bench layout, as `medsins bench` prompts by default: a system message "
               "(the cases, then the definition and the few-shot sentence) and a user message (the input)")
        if spec.plain:
            how += ", as plain text (system, a newline, user; a zero-shot prompt ends with an added newline)"
    else:
        how = "prompts in the MedS-Ins paper's zero-/few-shot prose" + (
            " (each prompt ends with an added newline)" if spec.plain else ", one user turn")
    return f"{form}; {how}"


def _mix_card(plan: MixturePlan, shards: list[str]) -> str:
    import yaml

    from medsins_datasets import __version__
    from medsins_datasets.cards import LANGUAGE_CODES, render_template

    tasks = [tp.task for tp in plan.tasks if tp.quota]
    langs = sorted({LANGUAGE_CODES.get(x, x) for t in tasks for x in t.input_languages + t.output_languages})
    meta = {
        "pretty_name": "MedS-Ins training mixture",
        "license": "other",
        "language": langs,
        "task_categories": ["text-generation"],
        "tags": ["medical", "instruction-tuning", "medsins", "sft"],
        # explicit, content-named files: `datasets` keys its cache of a local folder on the listed paths,
        # so a rewritten mixture under the same folder name must not reuse a name
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": shards}]}],
    }
    rows = "\n".join(
        f"| `{tp.task.config_name}` | {tp.task.task_id} | {tp.task.category} | {tp.task.source} | "
        f"{tp.task.license or 'unknown'} | {tp.rows:,} | {tp.unique:,} | {tp.quota:,} |"
        for tp in plan.tasks
    )
    cred = (
        "\n**This mixture contains credentialed data.** It must not be made public; share it only with "
        "people who hold the sources' data-use agreements.\n" if plan.credentialed else ""
    )
    body = render_template(
        "mixture_card.md",
        num_rows=f"{plan.num_rows:,}",
        format=plan.spec.format,
        row_form=_describe_rows(plan.spec),
        medsins_version=__version__,
        credentialed_note=cred,
        task_rows=rows,
        spec_json=json.dumps(plan.spec.to_dict(), indent=1, ensure_ascii=False),
    )
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + body


def write_mixture(plan: MixturePlan, out: str | Path, *, overwrite: bool = False,
                  shard_rows: int = MIX_SHARD_ROWS) -> Path:
    """Write the mixture to ``out`` as Parquet shards (``data/train-<fingerprint>-NNNNN.parquet``) plus a dataset
    card and a manifest; ``load_dataset(out, split="train")`` then reads it. Streaming: memory stays
    flat. The folder appears only when complete (written to a temporary sibling first)."""
    import pyarrow.parquet as pq

    from medsins_datasets import __version__

    out = Path(out).expanduser().resolve()
    if out.exists() and not overwrite:
        raise MedsinsError(f"output folder {out} exists (pass overwrite=True / --overwrite to replace it)")
    if out.exists() and not out.is_dir():
        raise MedsinsError(f"--out {out} exists and is not a folder; nothing was changed: choose another --out")
    # --overwrite replaces an earlier mixture (its manifest says so), never the user's own folder
    check_own_folder(out, MIX_MANIFEST, "--out", "mix")
    if (out / MIX_MANIFEST).is_file():
        try:
            earlier = json.loads((out / MIX_MANIFEST).read_text(encoding="utf-8")).get("files", [])
        except (ValueError, AttributeError):
            earlier = []
        check_replaceable(out, MIX_MANIFEST, [*earlier, "README.md"], "--out", "mix")
    staging = new_staging(out, "mix")
    schema = plan.features().arrow_schema
    fp = plan.fingerprint()
    try:
        (staging / "data").mkdir()
        shards: list[str] = []
        writer = None
        in_shard = 0
        buf: list[dict] = []

        def flush() -> None:
            nonlocal writer, in_shard
            if writer is None:
                shards.append(f"data/train-{fp}-{len(shards):05d}.parquet")
                writer = pq.ParquetWriter(staging / shards[-1], schema, compression="zstd")
            writer.write_table(pa.Table.from_pylist(buf, schema=schema))
            in_shard += len(buf)
            buf.clear()
            if in_shard >= shard_rows:
                writer.close()
                writer, in_shard = None, 0

        for row in progress_bar(plan.iter_rows(), total=plan.num_rows, desc=f"writing {out.name}", unit=" rows"):
            buf.append(row)
            if len(buf) >= _WRITE_BATCH:
                flush()
        if buf:
            flush()
        if writer is not None:
            writer.close()
        manifest = {"medsins_version": __version__, "fingerprint": fp, "num_rows": plan.num_rows,
                    "credentialed": plan.credentialed,
                    "counts": plan.counts, "files": shards, **plan.summary()}
        (staging / MIX_MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        (staging / "README.md").write_text(_mix_card(plan, shards), encoding="utf-8")
        publish(staging, out)
    except BaseException:
        discard(staging)
        raise
    return out
