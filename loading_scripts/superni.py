"""Super-NaturalInstructions -> the 29 SuperNI-derived MedS-Ins tasks.

Raw files: the task JSON files of github.com/allenai/natural-instructions (folder
``tasks/``), e.g. ``task181_outcome_extraction.json``. Any subset may be given; every
SuperNI task found is converted into its MedS-Ins task (all instances into the train
split: SuperNI files have no split, and MedS-Bench's test instances for these tasks come
from the official MedS-Bench files - use ``medsins contamination`` to check overlap).

The SuperNI number -> official id mapping follows the official MedS-Ins ids (see the
task notes); HealthFact claim generation is SuperNI 1368 and explanation 1369.
"""

from __future__ import annotations

import re
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError
from medsins_datasets.taskfile.reader import iter_instances, read_header

#: SuperNI task number -> official MedS-Ins task id
SUPERNI_TO_OFFICIAL: dict[int, str] = {
    179: "task1", 180: "task2", 181: "task3",
    845: "task11", 846: "task12", 847: "task13", 848: "task14", 849: "task15",
    1366: "task16", 1368: "task17", 1369: "task18",
    1395: "task19", 1396: "task20", 1397: "task21",
    1431: "task22", 1432: "task23", 1433: "task24", 1434: "task25",
    1447: "task26", 1448: "task27", 1449: "task28", 1451: "task29",
    1481: "task31", 1484: "task33", 1486: "task35", 1487: "task36",
    1495: "task37", 1645: "task38", 1646: "task39",
}

_FILE_RE = re.compile(r"^task(\d+)_.*\.json$")


def _superni_files(data_dir: Path) -> dict[int, Path]:
    found: dict[int, Path] = {}
    for p in sorted(data_dir.glob("task*_*.json")):
        m = _FILE_RE.match(p.name)
        if m and int(m.group(1)) in SUPERNI_TO_OFFICIAL:
            found[int(m.group(1))] = p
    return found


def convert(data_dir: Path, writer: TaskWriter) -> None:
    files = _superni_files(data_dir)
    if not files:
        expected = ", ".join(f"task{n}_*.json" for n in sorted(SUPERNI_TO_OFFICIAL))
        raise SourceError(
            f"Super-NaturalInstructions: no medical SuperNI task file in {data_dir}; expected any of: {expected} "
            "(from https://github.com/allenai/natural-instructions/tree/master/tasks)"
        )
    for number, path in files.items():
        header = read_header(path)
        official = SUPERNI_TO_OFFICIAL[number]
        out = writer.open(
            official,
            "train",
            definition=header.definition,  # used when no official definitions file is given
            input_language=header.languages("Input_language") or None,
            output_language=header.languages("Output_language") or None,
            extra={"SuperNI_Task": path.stem},
        )
        # keep SuperNI ids when present; derived ids name the SuperNI file and index
        for inst in iter_instances(path, id_prefix=f"task{number}"):
            out.add(inst.input, inst.output, id=inst.id)


CONVERTER = Converter(
    name="superni",
    source="Super-NaturalInstructions",
    access="public",
    download="https://github.com/allenai/natural-instructions",
    raw_files=tuple(
        RawFile(f"task{n}_*.json", f"SuperNI task {n} (-> {tid})", required=False)
        for n, tid in sorted(SUPERNI_TO_OFFICIAL.items())
    ),
    task_ids=tuple(SUPERNI_TO_OFFICIAL[n] for n in sorted(SUPERNI_TO_OFFICIAL)),
    convert=convert,
    notes="Any subset of the 29 files may be present; at least one is needed. The task files are distributed "
          "under Apache-2.0 (allenai/natural-instructions); each task's data keeps its source's licence.",
)
