"""MIMIC-IV-ED benchmark (credentialed) -> the three clinical outcome tasks:
task117 hospitalization, task118 72-hour ED revisit, task119 critical triage.

Raw files: the outputs of the mimic4ed-benchmark pipeline
(github.com/nliulab/mimic4ed-benchmark, run on your own MIMIC-IV and MIMIC-IV-ED copy):
``train.csv`` and ``test.csv`` from its ``data_general_processing.py`` step (adults,
outliers cleaned, the benchmark's own train/test split), or only ``master_dataset.csv``
from ``extract_master_dataset.py``.

Each ED stay becomes one instance per task: the input lists the official predictor
variables as ``name: value`` lines (the variable names and layout of the official
MedS-Ins preparation; an empty cell is written ``nan`` as pandas did there), the output
is ``True`` or ``False`` (the outcome scoring looks for exactly these words).

* task117: ``outcome_hospitalization`` from triage-time variables;
* task118: ``outcome_ed_revisit_3d`` from variables known at ED discharge (last ED vital
  signs, ED length of stay, medication counts);
* task119: ``outcome_critical`` from triage-time variables.

The instances are those of the official scripts (``data_preparing/mimic4ed_*.py``): the same
variables in the same order, ``name: value`` lines (values as the CSV writes them, which is how
pandas printed them), ``True`` / ``False``. There is no clean-up (``--clean`` changes nothing).
Documented differences (bug fixes): the scripts saved the tasks under outdated ids (task104,
task105, task106 for today's task117, task119, task118), and built them from the whole cohort,
see the splits.

Splits: with ``train.csv`` / ``test.csv`` the benchmark's split is kept (train -> train,
test -> test, every row). With only ``master_dataset.csv`` (which the official MedS-Ins
preparation used whole, so its training files contained the stays it later tested on),
5 % of patients are held out by subject_id hash and each test file is a seeded sample of
100 of their stays, the paper's test size.
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import (
    TEST_PER_TASK, Outputs, Reservoir, content_free_errors, first_match, heldout, iter_csv, where
)

_HISTORY = ["age", "gender", "n_ed_30d", "n_ed_90d", "n_ed_365d", "n_hosp_30d", "n_hosp_90d", "n_hosp_365d",
            "n_icu_30d", "n_icu_90d", "n_icu_365d"]
_CHIEF = ["chiefcom_chest_pain", "chiefcom_abdominal_pain", "chiefcom_headache", "chiefcom_shortness_of_breath",
          "chiefcom_back_pain", "chiefcom_cough", "chiefcom_nausea_vomiting", "chiefcom_fever_chills",
          "chiefcom_syncope", "chiefcom_dizziness"]
_COMORB = ["cci_MI", "cci_CHF", "cci_PVD", "cci_Stroke", "cci_Dementia", "cci_Pulmonary", "cci_Rheumatic", "cci_PUD",
           "cci_Liver1", "cci_DM1", "cci_DM2", "cci_Paralysis", "cci_Renal", "cci_Cancer1", "cci_Liver2",
           "cci_Cancer2", "cci_HIV", "eci_Arrhythmia", "eci_Valvular", "eci_PHTN", "eci_HTN1", "eci_HTN2",
           "eci_NeuroOther", "eci_Hypothyroid", "eci_Lymphoma", "eci_Coagulopathy", "eci_Obesity", "eci_WeightLoss",
           "eci_FluidsLytes", "eci_BloodLoss", "eci_Anemia", "eci_Alcohol", "eci_Drugs", "eci_Psychoses",
           "eci_Depression"]
_TRIAGE = ["triage_temperature", "triage_heartrate", "triage_resprate", "triage_o2sat", "triage_sbp", "triage_dbp",
           "triage_pain", "triage_acuity"]

#: predictors available at triage (hospitalization, critical triage)
TRIAGE_VARIABLES = _HISTORY + _TRIAGE + _CHIEF + _COMORB
#: predictors available at ED discharge (72-hour revisit)
REVISIT_VARIABLES = (_HISTORY + ["triage_pain", "triage_acuity"] + _CHIEF + _COMORB
                     + ["ed_temperature_last", "ed_heartrate_last", "ed_resprate_last", "ed_o2sat_last",
                        "ed_sbp_last", "ed_dbp_last", "ed_los", "n_med", "n_medrecon"])

#: task id -> (outcome column, predictor columns)
TASKS = {
    "task117": ("outcome_hospitalization", TRIAGE_VARIABLES),
    "task118": ("outcome_ed_revisit_3d", REVISIT_VARIABLES),
    "task119": ("outcome_critical", TRIAGE_VARIABLES),
}

DEFINITIONS = {
    "task117": ("Below are data recorded when a patient was triaged in the emergency department. Predict whether "
                "the patient will be admitted to the hospital. Answer True or False."),
    "task118": ("Below are data about a patient's emergency department visit, up to ED discharge. Predict whether "
                "the patient will come back to the emergency department within 72 hours. Answer True or False."),
    "task119": ("Below are data recorded when a patient was triaged in the emergency department. Predict whether "
                "the patient's outcome is critical (ICU transfer within 12 hours or in-hospital death). Answer True "
                "or False."),
}

_TRUE = {"true", "1", "1.0", "yes"}
_FALSE = {"false", "0", "0.0", "no"}


def outcome_word(value: str, path: Path, line: int, column: str) -> str:
    v = value.strip().lower()
    if v in _TRUE:
        return "True"
    if v in _FALSE:
        return "False"
    raise SourceError(f"{where(path, line, column)}: expected True/False (or 1/0)")


def ehr_text(row: dict[str, str], variables: list[str]) -> str:
    return "\n".join(f"{k}: {row[k].strip() if row[k].strip() else 'nan'}" for k in variables)


def _required_columns() -> list[str]:
    cols: list[str] = []
    for outcome, variables in TASKS.values():
        for c in [outcome, *variables]:
            if c not in cols:
                cols.append(c)
    return cols


def _rows(path: Path, need_subject: bool):
    required = _required_columns() + (["subject_id"] if need_subject else [])
    for line, row in iter_csv(path, required):
        stay = row.get("stay_id", "").strip()
        yield line, (f"stay{stay}" if stay else f"{path.stem}-{line}"), row


@content_free_errors("MIMIC-IV-ED benchmark")
def convert(data_dir: Path, writer: TaskWriter) -> None:
    out = Outputs(writer, DEFINITIONS)
    train, test = first_match(data_dir, ("train.csv", "train.csv.gz")), first_match(data_dir, ("test.csv", "test.csv.gz"))
    master = first_match(data_dir, ("master_dataset.csv", "master_dataset.csv.gz"))
    if train is not None and test is not None:
        for split, path in (("train", train), ("test", test)):
            for line, iid, row in _rows(path, need_subject=False):
                for tid, (outcome, variables) in TASKS.items():
                    out.add(tid, split, ehr_text(row, variables), outcome_word(row[outcome], path, line, outcome), id=iid)
    elif master is not None:
        samples = {tid: Reservoir(TEST_PER_TASK, f"mimic4ed-{tid}") for tid in TASKS}
        for line, iid, row in _rows(master, need_subject=True):
            subject = row["subject_id"].strip()
            if not subject:
                raise SourceError(f"{where(master, line, 'subject_id')}: empty")
            for tid, (outcome, variables) in TASKS.items():
                inst = (iid, ehr_text(row, variables), outcome_word(row[outcome], master, line, outcome))
                if heldout(subject):
                    samples[tid].offer(inst)
                else:
                    out.add(tid, "train", inst[1], inst[2], id=iid)
        for tid, sample in samples.items():
            for iid, inp, outp in sample.items():
                out.add(tid, "test", inp, outp, id=iid)
    else:
        have = "only train.csv" if train is not None else "only test.csv" if test is not None else "neither"
        raise SourceError(
            f"MIMIC-IV-ED benchmark: {data_dir} has {have}; expected train.csv and test.csv (the output of "
            "data_general_processing.py) or master_dataset.csv (the output of extract_master_dataset.py) from "
            "https://github.com/nliulab/mimic4ed-benchmark"
        )
    if out.total == 0:
        raise SourceError(f"MIMIC-IV-ED benchmark: no rows in the files of {data_dir}")
    out.report_empty("MIMIC-IV-ED benchmark", TASKS, ("train", "test"))


CONVERTER = Converter(
    name="mimic4ed",
    source="MIMIC4ED Benchmark",
    access="credentialed",
    raw_files=(
        RawFile("train.csv*", "benchmark training split (data_general_processing.py output)", required=False),
        RawFile("test.csv*", "benchmark test split (data_general_processing.py output)", required=False),
        RawFile("master_dataset.csv*", "the whole cohort (extract_master_dataset.py output), used when "
                "train.csv/test.csv are absent", required=False),
    ),
    task_ids=tuple(TASKS),
    convert=convert,
    notes="Credentialed. train.csv + test.csv keep the benchmark split; master_dataset.csv alone gets a patient-level hold-out.",
)
