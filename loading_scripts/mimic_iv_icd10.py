"""MIMIC-IV ICD-10 coding benchmark (credentialed) -> task116, discharge summary to ICD-10
codes with their descriptions.

Raw files:

* the splits written by github.com/thomasnguyen92/MIMIC-IV-ICD-data-processing from your
  own MIMIC-IV copy (folder ``mimicdata/mimic4_icd10/``): ``disch_train_split.csv``,
  ``disch_dev_split.csv``, ``disch_test_split.csv`` (columns subject_id, hadm_id, text,
  labels; labels are ``;``-separated ICD-10 codes without dots); the CAML-style names
  ``train_full.csv`` / ``dev_full.csv`` / ``test_full.csv`` are accepted as well, and
  column names in any letter case;
* the public CMS code tables for the descriptions: ``icd10cm_order_<year>.txt`` (or
  ``icd10cm_codes_<year>.txt``) and, for the procedure codes among the labels,
  ``icd10pcs_order_<year>.txt`` (or ``icd10pcs_codes_<year>.txt``) - see ``icd10cm.py``.

Input: the discharge summary as the file holds it; output: ``CODE: description`` for each
label, in the file's order, joined with ``; ``, the code written as the labels write it, without
its dot (``E785``), a procedure table looked up before the diagnosis table - the layout and rules
of the official ``data_preparing/icd10_code_classification_explanation.py``. ``--clean``: the
summary stripped and diagnosis codes written with their dot (``E78.5``). A code found in neither
table is left out (counted in the log, as officially) and a summary left with no code is skipped
(documented difference: the script wrote an empty answer).

Not the same descriptions as the official files: the official script took them from tables
crawled from icd10data.com (``crawl_ICD_final.json``, ``crawl_ICD_PCS.json``, not published);
the CMS tables read here are the public source of those pages, whose wording may differ in
places. Splits: train -> train, dev -> validation, test -> test (the benchmark's own split; the
official preparation used the training split only). Task116 is not a MedS-Bench task.
"""

from __future__ import annotations

import logging
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._icd10 import display_code, load_system
from ._rawfiles import Outputs, content_free_errors, first_match, iter_csv, where

logger = logging.getLogger(__name__)

TASK = "task116"
DOWNLOAD = "https://github.com/thomasnguyen92/MIMIC-IV-ICD-data-processing"
SPLIT_FILES = {
    "train": ("disch_train_split.csv", "disch_train_split.csv.gz", "train_full.csv", "train_full.csv.gz"),
    "validation": ("disch_dev_split.csv", "disch_dev_split.csv.gz", "dev_full.csv", "dev_full.csv.gz"),
    "test": ("disch_test_split.csv", "disch_test_split.csv.gz", "test_full.csv", "test_full.csv.gz"),
}

DEFINITIONS = {
    TASK: ("Below is a hospital discharge summary. List the ICD-10 codes of the stay's diagnoses and procedures, "
           "each as 'CODE: description', separated by semicolons."),
}


@content_free_errors("MIMIC-IV ICD-10")
def convert(data_dir: Path, writer: TaskWriter) -> None:
    files = {split: first_match(data_dir, names) for split, names in SPLIT_FILES.items()}
    if files["train"] is None and files["test"] is None:
        raise SourceError(
            f"MIMIC-IV ICD-10: no split file in {data_dir}: expected disch_train_split.csv (and disch_dev_split.csv, "
            f"disch_test_split.csv), written by {DOWNLOAD} from MIMIC-IV (https://physionet.org/content/mimiciv/)"
        )
    cm = load_system(data_dir, "cm", required=True)
    pcs = load_system(data_dir, "pcs", required=False, valid_only=True)
    if not pcs:
        logger.warning("MIMIC-IV ICD-10: no ICD-10-PCS table found; procedure codes will be left out")
    out = Outputs(writer, DEFINITIONS)
    unknown = skipped = 0
    for split, path in files.items():
        if path is None:
            continue
        for line, row in iter_csv(path, ("hadm_id", "text", "labels"), lower_header=True):
            hadm = row["hadm_id"].strip()
            if not hadm:
                raise SourceError(f"{where(path, line, 'hadm_id')}: empty")
            text = row["text"].strip() if writer.clean else row["text"]
            if not text.strip():
                raise SourceError(f"{where(path, line, 'text')}: empty")
            answer = []
            for raw_code in row["labels"].split(";"):
                code = raw_code.replace(".", "").strip().upper()
                if not code:
                    continue
                if writer.clean and code in cm:
                    answer.append(f"{display_code(code, 'cm')}: {cm[code]}")
                elif code in pcs:  # the official look-up order: procedures first
                    answer.append(f"{code}: {pcs[code]}")
                elif code in cm:
                    answer.append(f"{code}: {cm[code]}")
                else:
                    unknown += 1
            if not answer:
                skipped += 1
                continue
            out.add(TASK, split, text, "; ".join(answer), id=f"hadm{hadm}")
    if unknown or skipped:
        logger.warning("MIMIC-IV ICD-10: %d label(s) not in the code tables were left out; %d summaries had no "
                       "known code and were skipped", unknown, skipped)
    if out.total == 0:
        raise SourceError(f"MIMIC-IV ICD-10: no summary with a known ICD-10 code in {data_dir}")


CONVERTER = Converter(
    name="mimic_iv_icd10",
    source="MIMIC4ICD-10",
    access="credentialed",
    download=DOWNLOAD,
    raw_files=(
        RawFile("disch_train_split.csv*", "training split (or train_full.csv) from MIMIC-IV-ICD-data-processing",
                required=False),
        RawFile("disch_dev_split.csv*", "development split (-> validation)", required=False),
        RawFile("disch_test_split.csv*", "test split", required=False),
        RawFile("**/icd10cm[_-]*.txt", "public CMS ICD-10-CM table (icd10cm_order_<year>.txt or "
                "icd10cm_codes_<year>.txt) from https://www.cms.gov/medicare/coding-billing/icd-10-codes"),
        RawFile("**/icd10pcs[_-]*.txt", "public CMS ICD-10-PCS table (icd10pcs_order_<year>.txt) for procedure codes",
                required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="summary stripped; diagnosis codes written with their dot (E78.5)",
    notes="Credentialed. The CMS code tables (public) give the code descriptions.",
)
