"""BioCreative VII LitCovid track -> task108, COVID-19 article topic classification.

Raw files: ``BC7-LitCovid-Train.csv``, ``BC7-LitCovid-Dev.csv`` and
``BC7-LitCovid-Test-GS.csv`` from ftp.ncbi.nlm.nih.gov/pub/lu/LitCovid/biocreative/
(columns pmid, journal, title, abstract, keywords, pub_type, authors, doi, label; the
label column holds ``;``-separated topics).

Input: ``Title: ...`` and ``Abstract: ...`` lines; output: the article's topics named as
in the task definition (treatment, mechanism, prevention, case report, diagnosis,
transmission, forecasting), comma-separated in the file's order - most articles have one
topic, some several. Articles without an abstract are skipped. Splits: Train -> train,
Dev -> validation, Test-GS -> test (task108 is not in MedS-Bench).
"""

from __future__ import annotations

from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import Outputs, first_match, iter_csv, where

TASK = "task108"
DOWNLOAD = "https://biocreative.bioinformatics.udel.edu/tasks/biocreative-vii/track-5/"
FILES = {"train": ("BC7-LitCovid-Train.csv",), "validation": ("BC7-LitCovid-Dev.csv",),
         "test": ("BC7-LitCovid-Test-GS.csv", "BC7-LitCovid-Test.csv")}
TOPICS = {"treatment": "treatment", "mechanism": "mechanism", "prevention": "prevention", "case report": "case report",
          "diagnosis": "diagnosis", "transmission": "transmission", "epidemic forecasting": "forecasting",
          "forecasting": "forecasting", "general info": "general", "general": "general"}
DEFINITIONS = {TASK: ("Read the title and abstract of a COVID-19 article and name its topic(s) among: prevention, "
                      "treatment, diagnosis, mechanism, case report, transmission, forecasting, general. Separate "
                      "several topics with commas.")}


def convert(data_dir: Path, writer: TaskWriter) -> None:
    out = Outputs(writer, DEFINITIONS)
    files = {split: first_match(data_dir, names) for split, names in FILES.items()}
    if files["train"] is None:
        raise SourceError(f"LitCovid: no BC7-LitCovid-Train.csv in {data_dir} (distributed via {DOWNLOAD})")
    for split, path in files.items():
        if path is None:
            continue
        for line, row in iter_csv(path, ("pmid", "title", "abstract", "label")):
            labels = []
            for raw in row["label"].split(";"):
                name = " ".join(raw.replace("_", " ").split()).lower()
                if not name:
                    continue
                if name not in TOPICS:
                    raise SourceError(f"{where(path, line, 'label')}: unknown topic {raw.strip()!r}")
                if TOPICS[name] not in labels:
                    labels.append(TOPICS[name])
            title, abstract = " ".join(row["title"].split()), " ".join(row["abstract"].split())
            if not labels or not abstract:
                continue
            out.add(TASK, split, f"Title: {title}\nAbstract: {abstract}", ", ".join(labels), id=f"pmid{row['pmid'].strip()}")
    if out.total == 0:
        raise SourceError(f"LitCovid: no labelled article with an abstract in {data_dir}")


CONVERTER = Converter(
    name="litcovid",
    source="LitCovid",
    access="public",
    download=DOWNLOAD,
    raw_files=(
        RawFile("BC7-LitCovid-Train.csv", "training articles"),
        RawFile("BC7-LitCovid-Dev.csv", "development articles (-> validation)", required=False),
        RawFile("BC7-LitCovid-Test*.csv", "test articles with gold labels (Test-GS)", required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
)
