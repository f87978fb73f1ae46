"""Token-per-line NER corpora (``word<TAB>tag``, a blank line between sentences), as
redistributed by github.com/cambridgeltl/MTL-Bioinformatics-2016 (``data/<Corpus>-IOB/``
with ``train.tsv``, ``devel.tsv`` and ``test.tsv``), and the MedS-Bench NER answer format.

Tags: IOB (``O``, ``B-<type>``, ``I-<type>``; untyped ``B`` / ``I`` as in the BioBERT copies)
or IOBES (``S-`` single-token and ``E-`` last-token tags, as in MTL's ``*-IOBES`` folders):
IOBES is read as IOB (``S`` starts a mention like ``B``, ``E`` continues it like ``I``), so
both taggings of a corpus give the same instances.

Default output = the official preparation. The published MedS-Ins script for these files,
``data_preparing/species800_named_entity_recognition.py`` (github.com/MAGIC-AI4Med/MedS-Ins;
the official NER files task125-128 share its layout), builds one instance per sentence:

* input: the tokens joined by single spaces, except that ``. , ; : ? !`` are glued to the
  previous token (brackets, hyphens, quotes keep their spaces: ``( 5 - FU )``);
* mentions: a ``B`` tag opens one, ``I`` continues an open one (an ``I`` with none open is
  ignored, its token belongs to no mention), ``O`` closes it; a mention is its tokens joined by
  single spaces (so ``IL - 2 ,`` stays spaced even where the input glues the comma);
* output: every mention in order, duplicates kept, joined by ``", "`` and ended by ``"."``.

One documented difference: a sentence without a mention is answered ``There is no related
enetity.`` (sic). The script wrote "entity", but the published MedS-Bench NER files and the
official scorer use the misspelling; the scorer (:func:`medsins_datasets.scoring.ner_entities`)
recognises only it as the empty answer.

``clean=True`` (``medsins convert --clean``) gives readable text instead: no space before ``, .
; : ) ] % ? !`` nor after ``( [``, ``5 - FU`` -> ``5-FU``, ``' s`` -> ``'s``; mentions are cut from
that text by token span (always substrings of the input), an ``I`` tag that opens a mention starts
one (IOB1 style, as conlleval reads it), and mentions are de-duplicated case-insensitively (the
scorer lower-cases, so two spellings of one mention would count twice in the gold set).

Corpora and converters: BC5CDR-chem / BC5CDR-disease -> ``bc5cdr`` (task126, task127, task28),
NCBI-disease -> ``ncbi_disease`` (task27), BC2GM -> ``bc2gm`` (task31), linnaeus -> ``linnaeus``
(task33), BC4CHEMD -> ``bc4chemd`` (task125), Species-800 (BioBERT copy, folder ``s800/``) ->
``species800`` (task128). AnatEM is not converted: no official task uses it (task35/36 are AnEM
cell and organism-substance extraction, fine-grained types that AnatEM's single ``Anatomy`` tag
does not give). The SuperNI-style tasks (task27, task28, task31, task33) write only sentences with
a mention and the distinct mentions as accepted answers (exact de-duplication; case-insensitive
with ``clean``); their inputs use the same joining.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from medsins_datasets.sources.converters import RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import _read_guard, where

#: The no-entity answer of the published NER files (misspelling kept: the scorer recognises only it).
NO_ENTITY_ANSWER = "There is no related enetity."

#: What ``clean=True`` changes for the converters of these corpora (``Converter.clean_note``).
IOB_CLEAN_NOTE = ("readable detokenisation (no space before , . ; : ) ] % ? ! or after ( [, '5 - FU' -> '5-FU'), "
                  "mentions cut from that text, an opening I- tag starts a mention, mentions de-duplicated "
                  "case-insensitively")

#: MedS-Ins splits -> the corpus files they are built from (training never reads test.tsv).
SPLIT_FILES = {"train": ("train.tsv", "devel.tsv"), "test": ("test.tsv",)}

MTL_HOMEPAGE = "https://github.com/cambridgeltl/MTL-Bioinformatics-2016 (folder data/)"


def iob_raw_files(folder: str, label: str | None = None, origin: str = MTL_HOMEPAGE) -> tuple[RawFile, ...]:
    """The ``train.tsv`` / ``devel.tsv`` (optional) / ``test.tsv`` files of one IOB corpus folder."""
    return tuple(RawFile(f"{folder}/{name}", f"{label or folder} {name} (IOB, from {origin})",
                         required=name != "devel.tsv") for name in ("train.tsv", "devel.tsv", "test.tsv"))


@dataclass(frozen=True)
class Sentence:
    id: str                  # <file stem>-<sentence index>, e.g. "train-12"
    tokens: tuple[str, ...]
    tags: tuple[str, ...]    # IOB: "O", "B[-type]", "I[-type]" (IOBES read as IOB)

    def text(self, clean: bool = False) -> str:
        """The sentence as the input of an instance (official joining, or readable with ``clean``)."""
        return _joined(self.tokens)[0] if clean else official_join(self.tokens)

    def mentions(self, clean: bool = False) -> tuple[str, ...]:
        """The mentions in order, duplicates kept (official rules, or conlleval rules with ``clean``)."""
        return _clean_mentions(self.tokens, self.tags) if clean else _official_mentions(self.tokens, self.tags)


#: tokens the official preparation glues to the previous token
_OFFICIAL_GLUED = frozenset({".", ",", ";", ":", "?", "!"})


def official_join(tokens: tuple[str, ...] | list[str]) -> str:
    """The tokens joined as the official preparation joins them (see the module docstring)."""
    out = tokens[0] if tokens else ""
    for tok in tokens[1:]:
        out += tok if tok in _OFFICIAL_GLUED else " " + tok
    return out


def _official_mentions(tokens: tuple[str, ...], tags: tuple[str, ...]) -> tuple[str, ...]:
    mentions: list[str] = []
    current: list[str] = []
    for tok, tag in zip(tokens, tags):
        kind = tag[0]
        if kind == "B":
            if current:
                mentions.append(" ".join(current))
            current = [tok]
        elif kind == "I" and current:
            current.append(tok)
        elif kind == "O" and current:
            mentions.append(" ".join(current))
            current = []
    if current:
        mentions.append(" ".join(current))
    return tuple(mentions)


_NO_SPACE_BEFORE = {",", ".", ";", ":", ")", "]", "%", "?", "!"}
_NO_SPACE_AFTER = ("(", "[")


def _joined(tokens: tuple[str, ...] | list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Tokens re-joined as readable text (the ``clean`` layout), with each token's character span.

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


def _clean_mentions(tokens: tuple[str, ...], tags: tuple[str, ...]) -> tuple[str, ...]:
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
    return tuple(mentions)


#: IOBES prefixes read as IOB
_IOBES_AS_IOB = {"S": "B", "E": "I"}


def _iob_tag(tag: str) -> str | None:
    """The IOB form of an IOB / IOBES tag (``S-x`` -> ``B-x``, ``E-x`` -> ``I-x``), None if not one."""
    if tag == "O":
        return tag
    head, rest = tag[:1], tag[1:]
    if head not in ("B", "I", "E", "S") or (rest and (not rest.startswith("-") or len(rest) < 2)):
        return None
    return _IOBES_AS_IOB.get(head, head) + rest


def iter_sentences(path: Path) -> Iterator[Sentence]:
    """The sentences of one IOB / IOBES file; malformed lines raise an error naming file and line."""
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
                        yield Sentence(f"{path.stem}-{k}", tuple(tokens), tuple(tags))
                        k += 1
                    tokens, tags = [], []
                    continue
                parts = line.split("\t")
                if len(parts) != 2 or not parts[0] or not parts[1]:
                    raise SourceError(f"{where(path, n, 'word<TAB>tag')}: expected two tab-separated columns "
                                      f"(got {len(parts)})")
                tag = _iob_tag(parts[1].strip())
                if tag is None:
                    raise SourceError(f"{where(path, n, 'tag')}: {parts[1].strip()!r} is not an IOB / IOBES tag (O, "
                                      "B-<type>, I-<type>, E-<type>, S-<type>, or untyped B / I / E / S)")
                tokens.append(parts[0])
                tags.append(tag)
            if tokens:
                yield Sentence(f"{path.stem}-{k}", tuple(tokens), tuple(tags))
    except SourceError:
        raise
    except (UnicodeDecodeError, OSError) as e:
        raise _read_guard(path, n + 1, e) from None


def distinct_mentions(mentions: tuple[str, ...] | list[str]) -> list[str]:
    """Mentions in order of first appearance, de-duplicated case-insensitively."""
    seen: dict[str, str] = {}
    for m in mentions:
        seen.setdefault(m.lower(), m)
    return list(seen.values())


def ner_answer(mentions: tuple[str, ...] | list[str], *, clean: bool = False) -> str:
    """The NER answer: ``m1, m2.`` (duplicates kept, as officially; de-duplicated with ``clean``)
    or ``There is no related enetity.``"""
    found = distinct_mentions(mentions) if clean else list(mentions)
    return ", ".join(found) + "." if found else NO_ENTITY_ANSWER


def corpus_files(data_dir: Path, folder: str, split: str) -> list[Path]:
    """The files of ``folder`` that build ``split`` (``devel.tsv`` is optional)."""
    files = [data_dir / folder / name for name in SPLIT_FILES[split]]
    present = [p for p in files if p.is_file()]
    if split == "test" and not present:
        raise SourceError(f"missing {folder}/test.tsv in {data_dir} (distributed at {MTL_HOMEPAGE})")
    return present


def write_ner(writer: TaskWriter, data_dir: Path, folder: str, tasks: dict[str, dict]) -> None:
    """Convert one corpus folder into its tasks (``writer.clean`` picks the clean layout).

    ``tasks`` maps a task id to ``{"splits": (...), "style": "list" | "superni", "definition": str}``:
    ``list`` writes the official entity-list answer for every sentence; ``superni`` writes
    the Super-NaturalInstructions style of task27/28/31/33 (only sentences with a mention;
    every distinct mention is an accepted answer, the definition asks for one of them).
    """
    clean = getattr(writer, "clean", False)
    for split in ("train", "test"):
        wanted = {t: spec for t, spec in tasks.items() if split in spec["splits"]}
        if not wanted:
            continue
        streams = {t: writer.open(t, split, definition=spec["definition"]) for t, spec in wanted.items()}
        for path in corpus_files(data_dir, folder, split):
            for sent in iter_sentences(path):
                text, mentions = sent.text(clean), sent.mentions(clean)
                for t, spec in wanted.items():
                    if spec["style"] == "list":
                        streams[t].add(text, ner_answer(mentions, clean=clean), id=sent.id)
                    elif mentions:
                        accepted = distinct_mentions(mentions) if clean else list(dict.fromkeys(mentions))
                        streams[t].add(text, accepted, id=sent.id)
