"""LIMA (Less Is More for Alignment), medical subset -> task40 (informal medical question
answering).

Raw files, as huggingface.co/datasets/GAIR/lima distributes them: ``train.jsonl`` (1,030
curated conversations) and ``test.jsonl`` (300 prompts without responses), one JSON object a
line with ``conversations`` (a list of strings alternating user / assistant, starting with the
user) and ``source`` (``stackexchange``, ``wikihow``, ``Pushshift r/WritingPrompts``,
``Natural Instructions``, ``multi_turn``, ...). The dataset is gated on the Hub (accept its
licence, then download the two files). Only ``train.jsonl`` is read: the test prompts have no
responses.

Medical filter. The paper selected LIMA's medical part with InsTag, an LLM tagger that we do
not run; this converter uses its own deterministic, reproducible rule instead: a conversation
is kept when its FIRST USER TURN contains at least one of the medical terms of
:data:`MEDICAL_TERMS` (case-insensitive, whole words; a trailing ``*`` in the list marks a stem
that matches any ending, e.g. ``diagnos*`` -> diagnosis, diagnose, diagnosed). Only the user
turn is tested, so an answer that merely mentions a disease does not pull an unrelated
question in. The rule keeps a different set than InsTag did; the kept count is logged.

Input: the first user turn; output: the first assistant turn (later turns of multi-turn
conversations are not used). Instance ids are ``train-<line number>``. All instances are
training instances (task40 is not in MedS-Bench).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from medsins_datasets.registry.source_datasets import source_dataset
from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import iter_jsonl, where

logger = logging.getLogger(__name__)

TASK = "task40"
HOMEPAGE = source_dataset("LIMA").homepage  # data/sources.csv
FILE = "train.jsonl"
DEFINITIONS = {TASK: ("Answer the following informal question about health, medicine or medical care. "
                      "The answer may be a word, a phrase or a few sentences.")}

#: The medical filter's terms (this converter's own list; ``*`` = any ending).
MEDICAL_TERMS = (
    "medical", "medicine*", "medication*", "doctor*", "physician*", "nurse*", "hospital*", "clinic*",
    "patient*", "disease*", "illness*", "symptom*", "diagnos*", "therap*", "treatment*", "surgery",
    "surgeon*", "surgical", "vaccin*", "virus*", "viral", "bacteri*", "infection*", "infectious",
    "antibiotic*", "cancer*", "tumor*", "tumour*", "diabet*", "insulin", "blood pressure", "heart attack",
    "stroke", "cardiac", "pharmac*", "prescription*", "dose*", "dosage", "pill", "pills", "drug*", "allerg*",
    "asthma", "fever", "flu", "influenza", "covid*", "pandemic*", "epidemic*", "immune", "immunity",
    "pregnan*", "injur*", "wound*", "pain", "painful", "ache*", "headache*", "migraine*", "depression",
    "anxiety", "mental health", "psychiatr*", "dementia", "alzheimer*", "autism", "adhd", "obesity",
    "cholesterol", "anatomy", "kidney*", "liver", "lung*", "brain", "dental", "dentist*",
    "health", "healthcare", "epidemiolog*", "vitamin*", "hormone*", "gene therapy", "chemotherapy",
)
_TERM_RE = re.compile(
    r"\b(?:" + "|".join(re.escape(t[:-1]) + r"\w*" if t.endswith("*") else re.escape(t) for t in MEDICAL_TERMS) + r")\b",
    re.IGNORECASE,
)


def is_medical(prompt: str) -> bool:
    """The converter's medical filter: a medical term in the user's first turn."""
    return _TERM_RE.search(prompt) is not None


def convert(data_dir: Path, writer: TaskWriter) -> None:
    path = data_dir / FILE
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    total = 0
    for n, rec in iter_jsonl(path):
        conv = rec.get("conversations")
        if not isinstance(conv, list) or not all(isinstance(t, str) for t in conv):
            raise SourceError(f"{where(path, n, 'conversations')}: expected a list of strings")
        if len(conv) < 2:
            raise SourceError(f"{where(path, n, 'conversations')}: a training conversation needs a user turn "
                              f"and a response (got {len(conv)} turn(s))")
        total += 1
        prompt, answer = conv[0].strip(), conv[1].strip()
        if prompt and answer and is_medical(prompt):
            out.add(prompt, answer, id=f"train-{n}")
    logger.info("LIMA: %d of %d training conversations pass the medical filter", out.count, total)
    if out.count == 0:
        raise SourceError(f"{where(path)}: no conversation passes the medical filter")


CONVERTER = Converter(
    name="lima",
    source="LIMA",
    access="public",
    raw_files=(
        RawFile(FILE, f"LIMA training conversations, JSON lines with 'conversations' ({HOMEPAGE})"),
        RawFile("test.jsonl", "LIMA test prompts (not read: no responses)", required=False),
    ),
    task_ids=(TASK,),
    convert=convert,
    notes="Medical subset selected by this converter's keyword rule (MEDICAL_TERMS), not the paper's InsTag tagging.",
)
