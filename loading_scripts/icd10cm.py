"""ICD-10-CM code table (CMS / CDC) -> task115, ICD-10-CM code explanation.

Raw file: CMS's ``icd10cm_order_<year>.txt`` (every code, category headers included) or
``icd10cm_codes_<year>.txt`` (valid codes only), from the yearly "Code Descriptions in
Tabular Order" download (https://www.cms.gov/medicare/coding-billing/icd-10-codes); the
newest year found is used.

Each code becomes one training instance: input the code, output its long description. The
code is written without its dot (``A000``), as the official preparation
(``data_preparing/icd10_code_classification_explanation.py``) wrote its codes; ``--clean`` writes
the usual form with the dot (``A00.0``).

Not the official raw files: the official script read tables crawled from icd10data.com
(``crawl_ICD_final.json`` / ``crawl_ICD_PCS.json``, not published) and mixed in the ICD-10-PCS
procedure codes of the second; here the public CMS table of ICD-10-CM - the source of those pages
- gives the codes and descriptions (wording may differ in places), and PCS codes are not included
(the task's definition is about ICD-CM codes). Task115 is not a MedS-Bench task: no test split is
written.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter

from ._icd10 import CMS_URL, display_code, load_system

TASK = "task115"
DEFINITIONS = {
    TASK: "You are given an ICD-10-CM diagnosis code. State what the code stands for: give its full official "
          "description.",
}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    table = load_system(data_dir, "cm", required=True)
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    for code, desc in table.items():
        out.add(display_code(code, "cm") if writer.clean else code, desc, id=f"icd10cm-{code}")


CONVERTER = Converter(
    name="icd10cm",
    source="ICD-10-CM",
    access="public",
    download=CMS_URL,
    raw_files=(
        RawFile("**/icd10cm[_-]*.txt", "CMS ICD-10-CM table: icd10cm_order_<year>.txt or icd10cm_codes_<year>.txt"),
    ),
    task_ids=(TASK,),
    convert=convert,
    version="2",
    clean_note="codes written with their dot (A00.0)",
)
