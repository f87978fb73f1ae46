"""BioLORD-Dataset -> task48 (definition matching), task49 (long definition -> concept name) and
task50 (concept name -> definition; MedS-Bench Explanation, "BioLORD Concept Explanation").

Raw files: the BioLORD dataset (v1) of Remy et al. 2022, huggingface.co/datasets/
FremyCompany/BioLORD-Dataset (gated: accept the terms on the Hub, then download the data
files). The dataset card describes it as pairs of biomedical concept names and descriptions
(definitions) derived from UMLS / SNOMED CT. **Not confirmed:** the exact file names and
column names of the distributed files could not be checked (the repository is gated and no
public copy of its file listing or schema was found). The converter therefore reads every
data file of the folder (``*.parquet``, ``*.csv``, ``*.tsv``, ``*.jsonl``, ``*.json``; also
under ``data/``) and takes the concept name from the first present column among
``name, concept_name, concept, term, label, sentence1, anchor`` and the definition from the
first among ``definition, description, desc, sentence2, positive, text`` (case-insensitive).
A file without such columns is an error naming the file and its columns.

Tasks (one record = one (name, definition) pair; exact duplicate pairs are dropped):

* task50: input the concept name, output its definition;
* task49: input the definition, output the concept name;
* task48: input ``Definition: <definition>`` and ``Concepts:`` with 5 numbered concept names
  (the right one and 4 other concept names of the same split, drawn and shuffled with a
  seeded RNG); output the right concept name.

Split: the dataset has no official test split, so a documented deterministic one is used: a
concept (its lower-cased name) is held out for test in all three tasks when the SHA-256 hash
of ``biolord:<name>`` falls in the lowest 5% (``_rawfiles.heldout``); distractors come from
the same split. The paper samples 50 test instances for task50; all are written.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, heldout, iter_csv, iter_jsonl, json_records, load_json, where

HOMEPAGE = source_dataset("BioLORD").homepage  # data/sources.csv
NAME_COLUMNS = ("name", "concept_name", "concept", "term", "label", "sentence1", "anchor")
DEF_COLUMNS = ("definition", "description", "desc", "sentence2", "positive", "text")
PATTERNS = ("*.parquet", "*.csv", "*.tsv", "*.jsonl", "*.json")
TEST_FRACTION = 0.05
N_CHOICES = 5
DEFINITIONS = {
    "task48": "Read the definition and pick, from the numbered list of concepts, the concept it defines. "
              "Answer with the concept name.",
    "task49": "Read the detailed definition of a biomedical concept and give the short name of that concept.",
    "task50": "Explain the given biomedical concept with a detailed definition.",
}


def data_files(data_dir: Path) -> list[Path]:
    found: list[Path] = []
    for folder in (data_dir, data_dir / "data"):
        for pat in PATTERNS:
            found.extend(sorted(p for p in folder.glob(pat) if p.is_file()))
    return found


def _columns(path: Path, header: list[str]) -> tuple[str, str]:
    lower = {h.lower(): h for h in header}
    name = next((lower[c] for c in NAME_COLUMNS if c in lower), None)
    definition = next((lower[c] for c in DEF_COLUMNS if c in lower), None)
    if name is None or definition is None:
        raise SourceError(f"{where(path)}: no concept-name and definition columns (expected one of "
                          f"{', '.join(NAME_COLUMNS)} and one of {', '.join(DEF_COLUMNS)}; the file has "
                          f"{', '.join(header) or 'no columns'})")
    return name, definition


def _rows(path: Path) -> Iterator[tuple[str, dict]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
            pf = pq.ParquetFile(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid/OSError for bad files
            raise SourceError(f"{where(path)}: not a readable parquet file ({type(e).__name__})") from None
        k = 0
        for batch in pf.iter_batches(batch_size=10_000):
            for row in batch.to_pylist():
                k += 1
                yield f"row {k}", row
    elif suffix in (".csv", ".tsv"):
        delimiter = "\t" if suffix == ".tsv" else ","
        with open(path, encoding="utf-8", newline="") as f:
            import csv
            header = next(csv.reader(f, delimiter=delimiter), [])
        cols = _columns(path, [h.strip().lstrip("\ufeff") for h in header])
        for line, row in iter_csv(path, cols, delimiter=delimiter):
            yield f"line {line}", row
    elif suffix == ".jsonl":
        for line, obj in iter_jsonl(path):
            yield f"line {line}", obj
    else:
        data = load_json(path)
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = data["data"]
        for k, obj in json_records(path, data, start=1):
            yield f"record {k}", obj


def read_pairs(path: Path) -> Iterator[tuple[str, str]]:
    cols = None
    for pos, row in _rows(path):
        if cols is None:
            cols = _columns(path, [str(k) for k in row])
        name, definition = row.get(cols[0]), row.get(cols[1])
        for col, v in zip(cols, (name, definition)):
            if v is not None and not isinstance(v, str):
                raise SourceError(f"{where(path, None, col)}: not a string ({pos})")
        name, definition = " ".join((name or "").split()), " ".join((definition or "").split())
        if name and definition:
            yield name, definition


def convert(data_dir: Path, writer: TaskWriter) -> None:
    files = data_files(data_dir)
    if not files:
        raise SourceError(f"BioLORD: no data file ({', '.join(PATTERNS)}) in {data_dir} (download it from {HOMEPAGE})")
    pairs: dict[str, list[tuple[str, str]]] = {}
    names: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for path in files:
        for name, definition in read_pairs(path):
            if (name, definition) in seen:
                continue
            seen.add((name, definition))
            split = "test" if heldout(f"biolord:{name.lower()}", TEST_FRACTION) else "train"
            pairs.setdefault(split, []).append((name, definition))
            names.setdefault(split, [])
    if not pairs:
        raise SourceError(f"BioLORD: no (concept name, definition) pair in {', '.join(p.name for p in files)}")
    for split, items in pairs.items():
        names[split] = sorted({n for n, _ in items}, key=str.lower)
    out = Outputs(writer, DEFINITIONS)
    for split, items in pairs.items():
        pool = names[split]
        for k, (name, definition) in enumerate(items):
            iid = f"{split}-{k}"
            out.add("task50", split, name, definition, id=iid)
            out.add("task49", split, definition, name, id=iid)
            rng = random.Random(f"biolord:{split}:{k}")
            others = [n for n in rng.sample(pool, min(len(pool), 3 * N_CHOICES)) if n.lower() != name.lower()]
            if not others:
                continue
            choices = others[:N_CHOICES - 1] + [name]
            rng.shuffle(choices)
            listing = "\n".join(f"{i}. {c}" for i, c in enumerate(choices, 1))
            out.add("task48", split, f"Definition: {definition}\nConcepts:\n{listing}", name, id=iid)
    out.report_empty("BioLORD", DEFINITIONS, sorted(pairs))


CONVERTER = Converter(
    name="biolord",
    source="BioLORD",
    access="public",
    raw_files=tuple(RawFile(pat, f"BioLORD-Dataset data files ({HOMEPAGE}); any of parquet/csv/tsv/jsonl/json, "
                                 "also under data/", required=False) for pat in PATTERNS),
    task_ids=("task48", "task49", "task50"),
    convert=convert,
    notes="File/column names unconfirmed (gated dataset): flexible column detection. 5% hash split by concept.",
)
