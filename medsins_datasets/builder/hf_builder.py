"""One shared ``datasets`` builder for every MedS-Ins / MedS-Bench task.

datasets 5 no longer runs loading scripts, but builder classes remain public API::

    from medsins_datasets import MedSIns
    b = MedSIns(config_name="pico_outcome", source="path/to/task/files")
    b.download_and_prepare()
    ds = b.as_dataset()

``source`` is anything :func:`~medsins_datasets.sources.resolve_source` accepts: a folder in
the upstream layout, ``"hub"`` (the official repos), ``"hf://datasets/ORG/NAME"`` or
``"raw:<converter>:<folder>"``. For ``load_dataset("medsins", ...)`` build a hub-native
folder with ``medsins build`` (see :mod:`medsins_datasets.builder.parquet`).
"""

from __future__ import annotations

import datasets
from datasets.builder import Key

from medsins_datasets import __version__
from medsins_datasets.cards import citation
from medsins_datasets.registry.tasks import Task, all_tasks, get_task
from medsins_datasets.sources.resolve import SPLITS, resolve_source
from medsins_datasets.taskfile.reader import OnError, ParseStats
from medsins_datasets.taskfile.rows import FEATURES, iter_split_rows

_SPLIT_NAMES = {"train": datasets.Split.TRAIN, "validation": datasets.Split.VALIDATION, "test": datasets.Split.TEST}


class MedSInsConfig(datasets.BuilderConfig):
    """One task. ``source`` says where its task files come from (see module docstring)."""

    def __init__(self, *, source: str | None = None, on_error: OnError = "raise", **kwargs):
        kwargs.setdefault("version", datasets.Version(__version__))
        super().__init__(**kwargs)
        self.source = source
        self.on_error = on_error

    @property
    def task(self) -> Task:
        return get_task(self.name)


class MedSIns(datasets.GeneratorBasedBuilder):
    """MedS-Ins instruction tasks and MedS-Bench test tasks, one config per task."""

    BUILDER_CONFIG_CLASS = MedSInsConfig
    BUILDER_CONFIGS = [
        MedSInsConfig(name=t.config_name, description=f"{t.task_id}: {t.category} ({t.source})")
        for t in all_tasks()
    ]

    def _info(self) -> datasets.DatasetInfo:
        t = get_task(self.config.name)
        return datasets.DatasetInfo(
            description=f"MedS-Ins {t.task_id} ({t.config_name}): {t.category}, {t.domain}, source {t.source}.",
            features=FEATURES,
            homepage=t.homepage,
            license=t.license,
            citation=citation(),
        )

    def _split_generators(self, dl_manager):
        source = resolve_source(self.config.source or self.config.data_dir)
        task = get_task(self.config.name)
        files = source.task_files([task])[task.config_name]
        return [
            datasets.SplitGenerator(name=_SPLIT_NAMES[s], gen_kwargs={"paths": [str(p) for p in files.splits[s]]})
            for s in SPLITS
            if files.splits.get(s)
        ]

    def _generate_examples(self, paths: list[str]):
        task = get_task(self.config.name)
        shards = {p: k for k, p in enumerate(paths)}
        counts = [0] * len(paths)
        for path, row in iter_split_rows(task, paths, on_error=self.config.on_error, stats_for=ParseStats):
            shard = shards[str(path)]
            yield Key(shard, counts[shard]), row
            counts[shard] += 1
