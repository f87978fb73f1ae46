"""The dataset card (README.md) of a hub-native build, made with huggingface_hub's card classes.

The metadata is a :class:`huggingface_hub.DatasetCardData`: licence, languages, task
categories, size category, ``configs`` (the data files of every config and split: the layout
``load_dataset(folder, config)`` reads) and ``dataset_info`` per config (features, splits with
``num_examples`` and ``num_bytes``, ``download_size``, ``dataset_size``), written by ``datasets``'
own :class:`~datasets.info.DatasetInfosDict` so that ``datasets`` and the Hub read it back as
they read the cards ``push_to_hub`` writes. The body is ``templates/dataset_card.md`` filled in
with :class:`string.Template` (jinja2, which ``DatasetCard.from_template`` needs, is not a
dependency of the core install).

``num_bytes`` is what ``datasets`` calls it: the size of a split as Arrow data in memory. It
is measured by streaming each Parquet shard once; the result is kept per shard (keyed by size
and modification time) in ``.medsins_card_sizes.json``, so re-writing the card after every
config of a build, or re-running an unchanged build, does not read the shards again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from medsins_datasets import __version__
from medsins_datasets.cards import LANGUAGE_CODES, citation, render_template
from medsins_datasets.registry.tasks import get_task

if TYPE_CHECKING:
    from huggingface_hub import DatasetCard, DatasetCardData

    from medsins_datasets.builder.manifest import ConfigBuild


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

PRETTY_NAME = "MedS-Ins / MedS-Bench"
TAGS = ["medical", "biomedical", "clinical", "instruction-tuning", "medsins"]
SIZES_CACHE = ".medsins_card_sizes.json"
LICENSE_NOTICE = "LICENSE-NOTICE.md"



def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return label
    return "10M<n<100M"


def _human_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError  # unreachable


# --------------------------------------------------------------------------- sizes

def _arrow_nbytes(path: Path) -> int:
    """Size of a Parquet shard's rows as Arrow data in memory, streamed (flat memory)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        return sum(batch.nbytes for batch in pf.iter_batches(batch_size=10_000))


def shard_sizes(out: str | Path, configs: list["ConfigBuild"]) -> dict[str, tuple[int, int]]:
    """``"<config>/<shard>" -> (file bytes, Arrow bytes)`` of every shard of ``configs``.

    Arrow sizes come from the cache file when the shard's size and modification time are those
    recorded; the others are measured and the cache is rewritten (the card is written under the
    build's lock, so no other process writes it at the same time).
    """
    out = Path(out)
    cache_path = out / SIZES_CACHE
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError):
        cache = {}
    sizes: dict[str, tuple[int, int]] = {}
    fresh: dict[str, list[int]] = {}
    for c in configs:
        for files in c.files.values():
            for f in files:
                rel = f"{c.config_name}/{f}"
                st = (out / rel).stat()
                hit = cache.get(rel)
                if isinstance(hit, list) and len(hit) == 3 and hit[:2] == [st.st_size, st.st_mtime_ns]:
                    nbytes = int(hit[2])
                else:
                    nbytes = _arrow_nbytes(out / rel)
                fresh[rel] = [st.st_size, st.st_mtime_ns, nbytes]
                sizes[rel] = (st.st_size, nbytes)
    if fresh != cache:
        tmp = cache_path.with_name(cache_path.name + ".tmp")
        tmp.write_text(json.dumps(fresh, indent=0, sort_keys=True), encoding="utf-8")
        tmp.replace(cache_path)
    return sizes


def dataset_infos(out: str | Path, configs: list["ConfigBuild"]):
    """A :class:`datasets.info.DatasetInfosDict`: features, splits and sizes of every config."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict

    from medsins_datasets.taskfile.rows import FEATURES

    sizes = shard_sizes(out, configs)
    infos = DatasetInfosDict()
    for c in configs:
        splits = SplitDict()
        download = 0
        for split, n in c.splits.items():
            shard = [sizes[f"{c.config_name}/{f}"] for f in c.files[split]]
            download += sum(s[0] for s in shard)
            splits.add(SplitInfo(name=split, num_bytes=sum(s[1] for s in shard), num_examples=n))
        infos[c.config_name] = DatasetInfo(
            features=FEATURES.copy(), splits=splits, download_size=download,
            dataset_size=sum(s.num_bytes for s in splits.values()), config_name=c.config_name)
    return infos


# --------------------------------------------------------------------------- the card

def _sorted(configs: list["ConfigBuild"]) -> list["ConfigBuild"]:
    return sorted(configs, key=lambda c: get_task(c.config_name).number)


def card_data(out: str | Path, configs: list["ConfigBuild"]) -> "DatasetCardData":
    """The card's metadata: Hub fields, ``configs`` and ``dataset_info`` of every config."""
    from huggingface_hub import DatasetCardData

    configs = _sorted(configs)
    tasks = [get_task(c.config_name) for c in configs]
    langs = sorted({LANGUAGE_CODES.get(lang, lang) for t in tasks for lang in t.input_languages + t.output_languages})
    cats = sorted({HUB_TASK_CATEGORIES.get(t.category, "text-generation") for t in tasks} | {"text-generation"})
    if any(t.category == "Translation" for t in tasks):
        multi = ["multilingual", "translation"] if len(langs) > 1 else ["translation"]
    else:
        multi = ["multilingual"] if len(langs) > 1 else ["monolingual"]
    total = sum(sum(c.splits.values()) for c in configs)
    data = DatasetCardData(
        pretty_name=PRETTY_NAME,
        license="other",
        license_name="per-source",
        license_link=LICENSE_NOTICE,
        language=langs,
        multilinguality=multi,
        task_categories=cats,
        size_categories=[_size_category(total)],
        tags=list(TAGS),
        configs=[
            {
                "config_name": c.config_name,
                "data_files": [
                    {"split": split, "path": [f"{c.config_name}/{f}" for f in c.files[split]]}
                    for split in c.splits
                ],
            }
            for c in configs
        ],
    )
    dataset_infos(out, configs).to_dataset_card_data(data)
    return data


def _columns() -> str:
    from medsins_datasets.taskfile.rows import FEATURES

    def kind(f) -> str:
        return "list of strings" if not hasattr(f, "dtype") else f.dtype
    return "\n".join(f"- `{name}` ({kind(f)})" for name, f in FEATURES.items())


def dataset_card(out: str | Path, configs: list["ConfigBuild"]) -> "DatasetCard":
    """The whole card (metadata and body) of the build in ``out`` holding ``configs``."""
    from huggingface_hub import DatasetCard

    configs = _sorted(configs)
    data = card_data(out, configs)
    infos = data["dataset_info"] if isinstance(data["dataset_info"], list) else [data["dataset_info"]]
    rows = []
    for c in configs:
        t = get_task(c.config_name)
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
    body = render_template(
        "dataset_card.md",
        pretty_name=PRETTY_NAME,
        medsins_version=__version__,
        example_config=configs[0].config_name if configs else "pico_outcome",
        n_tasks=len(configs),
        n_instances=f"{sum(sum(c.splits.values()) for c in configs):,}",
        download_size=_human_bytes(sum(i.get("download_size", 0) for i in infos)),
        dataset_size=_human_bytes(sum(i.get("dataset_size", 0) for i in infos)),
        credentialed_note=cred_note,
        task_rows="\n".join(rows),
        columns=_columns(),
        citation=citation(),
    )
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}")


def card_text(out: str | Path, configs: list["ConfigBuild"]) -> str:
    return str(dataset_card(out, configs))


def write_card(out: Path, configs: list["ConfigBuild"]) -> Path:
    """Write ``README.md`` (the card) and ``LICENSE-NOTICE.md`` into the build folder ``out``."""
    path = Path(out) / "README.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(card_text(out, configs), encoding="utf-8")
    tmp.replace(path)
    notice = Path(out) / LICENSE_NOTICE
    lines = ["# Licences of the source datasets", ""]
    seen = set()
    for c in _sorted(configs):
        t = get_task(c.config_name)
        if t.source in seen:
            continue
        seen.add(t.source)
        lines.append(f"- **{t.source}** ({t.homepage or 'homepage unknown'}): {t.license or 'unknown'}")
    notice.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


