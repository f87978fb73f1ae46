"""ICD-10-CM code table (CMS / CDC, public domain) -> task115, ICD-10-CM code explanation.

Raw file: CMS's ``icd10cm_order_<year>.txt`` (every code, category headers included) or
``icd10cm_codes_<year>.txt`` (valid codes only), from the yearly "Code Descriptions in
Tabular Order" download (https://www.cms.gov/medicare/coding-billing/icd-10-codes); the
newest year found is used.

Each code becomes one training instance: input the code in its usual written form with
the dot (``A00.0``), output its long description. ICD-10-PCS procedure codes are not
included (the task is about ICD-10-CM; the official preparation mixed in PCS codes from
a crawled table). Task115 is not a MedS-Bench task: no test split is written.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.convert import Converter, RawFile, TaskWriter

from ._icd10 import display_code, load_system

TASK = "task115"
DEFINITIONS = {
    TASK: "You are given an ICD-10-CM diagnosis code. State what the code stands for: give its full official "
          "description.",
}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    table = load_system(data_dir, "cm", required=True)
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    for code, desc in table.items():
        out.add(display_code(code, "cm"), desc, id=f"icd10cm-{code}")


CONVERTER = Converter(
    name="icd10cm",
    source="ICD-10-CM",
    homepage="https://www.cms.gov/medicare/coding-billing/icd-10-codes",
    license="public domain (US government work)",
    access="public",
    raw_files=(
        RawFile("**/icd10cm[_-]*.txt", "CMS ICD-10-CM table: icd10cm_order_<year>.txt or icd10cm_codes_<year>.txt"),
    ),
    task_ids=(TASK,),
    convert=convert,
)
