"""Stage 2, sources: where task files come from.

* :mod:`.resolve`: a local folder, the official Hub repos, ``hf://`` and ``raw:`` specs, all
  resolved to task files in the upstream layout (:func:`resolve_source`);
* :mod:`.converters`: the framework of the raw-source converters in ``loading_scripts/``
  (:class:`Converter`, :class:`RawFile`, :class:`TaskWriter`).
"""

from medsins_datasets.sources.converters import (
    CONVERT_MANIFEST,
    Converter,
    RawFile,
    TaskWriter,
    converter_for_task,
    get_converter,
    run_converter,
)
from medsins_datasets.sources.resolve import (
    OFFICIAL_TEST_REPO,
    OFFICIAL_TRAIN_REPO,
    SPLITS,
    ConverterSource,
    HubSource,
    LocalSource,
    Source,
    TaskFiles,
    resolve_source,
)

__all__ = ["CONVERT_MANIFEST", "Converter", "ConverterSource", "HubSource", "LocalSource", "OFFICIAL_TEST_REPO",
           "OFFICIAL_TRAIN_REPO", "RawFile", "SPLITS", "Source", "TaskFiles", "TaskWriter", "converter_for_task",
           "get_converter", "resolve_source", "run_converter"]
