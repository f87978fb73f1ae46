"""Token-per-line IOB NER corpora (``word<TAB>tag``, a blank line between sentences), as
redistributed by github.com/cambridgeltl/MTL-Bioinformatics-2016 (``data/<Corpus>-IOB/``
with ``train.tsv``, ``devel.tsv`` and ``test.tsv``), and the MedS-Bench NER answer format.

Answer format of the official NER tasks (task125-128): the distinct mentions of the
sentence, in order of first appearance, joined by ``", "`` and ended by a full stop; a
sentence without a mention is answered with the official sentence ``There is no related
enetity.`` (sic: the official definitions and scorer spell it so). The scorer
(:func:`medsins_datasets.scoring.ner_entities`) removes every ``.``, strips, lower-cases and
drops the last character before splitting on ``", "``, so mentions are de-duplicated
case-insensitively here (two spellings of one mention would count twice in the gold set).

Corpora of that folder and their converters: BC5CDR-chem / BC5CDR-disease -> ``bc5cdr``
(task126, task127, task28), NCBI-disease -> ``ncbi_disease`` (task27), BC2GM -> ``bc2gm``
(task31), linnaeus -> ``linnaeus`` (task33). AnatEM is not converted: no official task uses
it (task35/36 are AnEM cell and organism-substance extraction, fine-grained types that the
single ``Anatomy`` tag of AnatEM-IOB does not give). BC4CHEMD-IOB -> ``bc4chemd`` (task125).
Species-800 (task128) -> ``species800``: that corpus is not in MTL-Bioinformatics-2016; it is read
from the BioBERT NER copy (folder ``s800/``, same ``word<TAB>tag`` layout and file names), whose
tags are untyped (``B`` / ``I`` / ``O``) - accepted here as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from medsins_datasets.convert import RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import _read_guard, where

#: The official no-entity answer (official misspelling kept: the scorer recognises only it).
NO_ENTITY_ANSWER = "There is no related enetity."

#: MedS-Ins splits -> the corpus files they are built from (training never reads test.tsv).
SPLIT_FILES = {"train": ("train.tsv", "devel.tsv"), "test": ("test.tsv",)}

MTL_HOMEPAGE = "https://github.com/cambridgeltl/MTL-Bioinformatics-2016 (folder data/)"


def iob_raw_files(folder: str, label: str | None = None, origin: str = MTL_HOMEPAGE) -> tuple[RawFile, ...]:
    """The ``train.tsv`` / ``devel.tsv`` (optional) / ``test.tsv`` files of one IOB corpus folder."""
    return tuple(RawFile(f"{folder}/{name}", f"{label or folder} {name} (IOB, from {origin})",
                         required=name != "devel.tsv") for name in ("train.tsv", "devel.tsv", "test.tsv"))


@dataclass(frozen=True)
class Sentence:
    id: str          # <file stem>-<sentence index>, e.g. "train-12"
    text: str        # the tokens re-joined (see _joined)
    mentions: tuple[str, ...]  # substrings of text, in order, duplicates kept


_NO_SPACE_BEFORE = {",", ".", ";", ":", ")", "]", "%", "?", "!"}
_NO_SPACE_AFTER = ("(", "[")


def _joined(tokens: tuple[str, ...] | list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Tokens re-joined, with the character span of each token.

    No space before ``, . ; : ) ] % ? !`` or after ``( [``; a ``-`` between two word
    characters is glued (``5 - FU`` -> ``5-FU``) and ``' s`` after a word becomes ``'s``.
    Mentions are cut from the joined sentence by token span, so they are always substrings
    of it.
    """
    out = ""
    spans: list[tuple[int, int]] = []
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if i:
            prev = tokens[i - 1]
            nxt = tokens[i + 1] if i + 1 < n else ""
            glue = (
                tok in _NO_SPACE_BEFORE or prev.endswith(_NO_SPACE_AFTER)
                or (tok == "-" and prev[-1:].isalnum() and nxt[:1].isalnum())
                or (prev == "-" and i >= 2 and tokens[i - 2][-1:].isalnum() and tok[:1].isalnum())
                or (tok == "'" and nxt == "s" and prev[-1:].isalnum())
                or (tok == "s" and prev == "'" and i >= 2 and tokens[i - 2][-1:].isalnum())
            )
            if not glue:
                out += " "
        spans.append((len(out), len(out) + len(tok)))
        out += tok
    return out, spans


def detokenize(tokens: tuple[str, ...] | list[str]) -> str:
    """The tokens re-joined as readable text (see :func:`_joined`)."""
    return _joined(tokens)[0]


def iter_sentences(path: Path) -> Iterator[Sentence]:
    """The sentences of one IOB file; malformed lines raise an error naming file and line."""
    tokens: list[str] = []
    tags: list[str] = []
    k = 0
    n = 0
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    if tokens:
                        yield _sentence(f"{path.stem}-{k}", tokens, tags)
                        k += 1
                    tokens, tags = [], []
                    continue
                parts = line.split("\t")
                if len(parts) != 2 or not parts[0] or not parts[1]:
                    raise SourceError(f"{where(path, n, 'word<TAB>tag')}: expected two tab-separated columns "
                                      f"(got {len(parts)})")
                tag = parts[1].strip()
                if tag != "O" and tag not in ("B", "I") and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
                    raise SourceError(f"{where(path, n, 'tag')}: {tag!r} is not an IOB tag (O, B-<type>, I-<type>, "
                                      "or untyped B / I)")
                tokens.append(parts[0])
                tags.append(tag)
            if tokens:
                yield _sentence(f"{path.stem}-{k}", tokens, tags)
    except SourceError:
        raise
    except (UnicodeDecodeError, OSError) as e:
        raise _read_guard(path, n + 1, e) from None


def _sentence(sid: str, tokens: list[str], tags: list[str]) -> Sentence:
    text, spans = _joined(tokens)
    mentions: list[str] = []
    first = last = -1
    for k, tag in enumerate(tags):
        if tag.startswith("B") or (tag.startswith("I") and first < 0):
            # an I- tag that opens a mention (IOB1 style) starts one, as conlleval does
            if first >= 0:
                mentions.append(text[spans[first][0]:spans[last][1]])
            first = last = k
        elif tag.startswith("I"):
            last = k
        else:
            if first >= 0:
                mentions.append(text[spans[first][0]:spans[last][1]])
            first = last = -1
    if first >= 0:
        mentions.append(text[spans[first][0]:spans[last][1]])
    return Sentence(sid, text, tuple(mentions))


def distinct_mentions(mentions: tuple[str, ...] | list[str]) -> list[str]:
    """Mentions in order of first appearance, de-duplicated case-insensitively."""
    seen: dict[str, str] = {}
    for m in mentions:
        seen.setdefault(m.lower(), m)
    return list(seen.values())


def ner_answer(mentions: tuple[str, ...] | list[str]) -> str:
    """The official NER answer: ``m1, m2.`` or ``There is no related enetity.``"""
    uniq = distinct_mentions(mentions)
    return ", ".join(uniq) + "." if uniq else NO_ENTITY_ANSWER


def corpus_files(data_dir: Path, folder: str, split: str) -> list[Path]:
    """The files of ``folder`` that build ``split`` (``devel.tsv`` is optional)."""
    files = [data_dir / folder / name for name in SPLIT_FILES[split]]
    present = [p for p in files if p.is_file()]
    if split == "test" and not present:
        raise SourceError(f"missing {folder}/test.tsv in {data_dir} (distributed at {MTL_HOMEPAGE})")
    return present


def write_ner(writer: TaskWriter, data_dir: Path, folder: str, tasks: dict[str, dict]) -> None:
    """Convert one corpus folder into its tasks.

    ``tasks`` maps a task id to ``{"splits": (...), "style": "list" | "superni", "definition": str}``:
    ``list`` writes the official entity-list answer for every sentence; ``superni`` writes
    the Super-NaturalInstructions style of task27/28/31/33 (only sentences with a mention;
    every distinct mention is an accepted answer, the definition asks for one of them).
    """
    for split in ("train", "test"):
        wanted = {t: spec for t, spec in tasks.items() if split in spec["splits"]}
        if not wanted:
            continue
        streams = {t: writer.open(t, split, definition=spec["definition"]) for t, spec in wanted.items()}
        for path in corpus_files(data_dir, folder, split):
            for sent in iter_sentences(path):
                for t, spec in wanted.items():
                    if spec["style"] == "list":
                        streams[t].add(sent.text, ner_answer(sent.mentions), id=sent.id)
                    elif sent.mentions:
                        streams[t].add(sent.text, distinct_mentions(sent.mentions), id=sent.id)
