"""Human Disease Ontology (DO) -> task47 (relation between two disease terms), task45 (synonym
generation) and task46 (entity explanation, in MedS-Bench).

Raw files, as github.com/DiseaseOntology/HumanDiseaseOntology distributes them
(``src/ontology/releases/``; both optional, at least one needed):

* ``HumanDO.tsv``: tab-separated, quoted, header ``id``, ``label``, ``subClassOf`` (the parent's
  label); one row per (term, parent) pair -> task47.
* ``doid.obo``: the ontology in OBO 1.2/1.4 format - a header, then ``[Term]`` stanzas of
  ``tag: value`` lines: ``id: DOID:...``, ``name:``, ``def: "<text>" [<xrefs>]``, any number of
  ``synonym: "<text>" EXACT|RELATED|NARROW|BROAD [<xrefs>]``, ``is_a: DOID:... ! <name>``,
  ``is_obsolete: true`` (``[Typedef]`` stanzas are skipped; ``\"`` escapes are decoded)
  -> task45 and task46.

Tasks:

* task47 (relation classification: synonym, parent, child or unrelated), from HumanDO.tsv -
  produced for the three relations the file holds. ``Word1: <a>\nWord2: <b>`` -> ``parent`` when
  ``a`` is the direct parent of ``b``, ``child`` when ``a`` is a direct child of ``b`` (the
  direction runs from the first word to the second, as the official definition says); each
  parent link is written in one direction chosen by a seeded RNG. ``unrelated`` pairs (one per
  three links) join two terms of which neither is an ancestor of the other, drawn with a seeded
  RNG. ``synonym`` is NOT produced (the TSV has no synonyms; doid.obo's synonyms are not mixed
  in, so task47 stays exactly as from the TSV).
* task45 (synonym generation), from doid.obo: input = a term's name, output = its EXACT
  synonyms joined by ``", "`` (those that differ from the name, de-duplicated
  case-insensitively); terms without an exact synonym and obsolete terms are left out.
  RELATED/NARROW/BROAD synonyms are not used (they are not synonyms in the strict sense).
* task46 (entity explanation), from doid.obo: input = a term's name, output = its textual
  definition (the quoted part of ``def``, without the references). Obsolete terms and terms
  without a definition are left out.

Splits: DO has no split. task45 and task47 are training-only (not in MedS-Bench). For task46 the
terms are split by ``_rawfiles.heldout(<DOID>)`` (a deterministic 5% hash split): held-out
terms form the test split (all of them are written; MedS-Bench sampled 100), the rest train.
"""

from __future__ import annotations

import random
from pathlib import Path

from medsins_datasets.sources.converters import Converter, RawFile, TaskWriter
from medsins_datasets.errors import SourceError

from ._rawfiles import _read_guard, heldout, iter_csv, where

TASK = "task47"
SYN, EXPLAIN = "task45", "task46"
HOMEPAGE = "https://github.com/DiseaseOntology/HumanDiseaseOntology (src/ontology/releases/)"
FILE = "HumanDO.tsv"
OBO = "doid.obo"
UNRELATED_PER_LINK = 1 / 3
DEFINITIONS = {TASK: (
    "Classify the relation between the two given disease terms, from the first word to the second, according to "
    "the Disease Ontology. The input looks like \"Word1: ...\\nWord2: ...\". Answer with one of: synonym, parent "
    "(Word1 is the direct parent of Word2), child (Word1 is a direct child of Word2) or unrelated."),
    SYN: "Given the name of a disease, write other names (synonyms) for the same disease, separated by commas.",
    EXPLAIN: "Explain the given medical term (a disease name) as a doctor would, in one or two sentences.",
}


def read_links(path: Path) -> list[tuple[str, str]]:
    """``(child label, parent label)`` pairs, in file order, without repeats."""
    links: dict[tuple[str, str], None] = {}
    for line, row in iter_csv(path, ("id", "label", "subClassOf"), delimiter="\t"):
        label, parent = row["label"].strip(), row["subClassOf"].strip()
        if not row["id"].strip().startswith("DOID:"):
            raise SourceError(f"{where(path, line, 'id')}: not a DOID identifier")
        if not label:
            raise SourceError(f"{where(path, line, 'label')}: empty")
        if parent and parent != label:
            links[(label, parent)] = None
    return list(links)


def _ancestors(term: str, parents: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [term]
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def write_relations(path: Path, writer: TaskWriter) -> None:
    links = read_links(path)
    if not links:
        raise SourceError(f"{where(path)}: no term with a parent (subClassOf)")
    parents: dict[str, set[str]] = {}
    for child, parent in links:
        parents.setdefault(child, set()).add(parent)
    terms = sorted({t for link in links for t in link})
    rng = random.Random("medsins-do-task47")
    out = writer.open(TASK, "train", definition=DEFINITIONS[TASK])
    for k, (child, parent) in enumerate(links):
        if rng.random() < 0.5:
            out.add(f"Word1: {parent}\nWord2: {child}", "parent", id=f"link{k}-parent")
        else:
            out.add(f"Word1: {child}\nWord2: {parent}", "child", id=f"link{k}-child")
    n_unrelated = int(len(links) * UNRELATED_PER_LINK)
    made = 0
    tries = 0
    seen: set[tuple[str, str]] = set()
    while made < n_unrelated and tries < 20 * n_unrelated:
        tries += 1
        a, b = rng.sample(terms, 2)
        if (a, b) in seen or b in _ancestors(a, parents) or a in _ancestors(b, parents):
            continue
        seen.add((a, b))
        out.add(f"Word1: {a}\nWord2: {b}", "unrelated", id=f"unrelated{made}")
        made += 1


def _quoted(value: str, path: Path, line: int, tag: str) -> tuple[str, str]:
    """The leading OBO quoted string of ``value`` (escapes decoded) and the rest of the value."""
    if not value.startswith('"'):
        raise SourceError(f"{where(path, line, tag)}: expected a quoted text")
    out: list[str] = []
    i = 1
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if ch == '"':
            return "".join(out).strip(), value[i + 1:].strip()
        out.append(ch)
        i += 1
    raise SourceError(f"{where(path, line, tag)}: the quoted text is not closed")


def read_obo_terms(path: Path) -> list[dict]:
    """The non-obsolete ``[Term]`` stanzas of an OBO file: ``{"id", "name", "def", "exact"}``."""
    terms: list[dict] = []
    current: dict | None = None
    n = 0

    def close() -> None:
        if current is None:
            return
        start = current["line"]
        if not current.get("id"):
            raise SourceError(f"{where(path, start, 'id')}: the [Term] stanza starting here has no id")
        if not current["id"].startswith("DOID:"):
            raise SourceError(f"{where(path, start, 'id')}: {current['id']!r} is not a DOID identifier")
        if current.get("obsolete"):
            return
        if not current.get("name"):
            raise SourceError(f"{where(path, start, 'name')}: term {current['id']} has no name")
        terms.append(current)

    try:
        with open(path, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                line = raw.strip()
                if not line or line.startswith("!"):
                    continue
                if line.startswith("["):
                    close()
                    current = {"line": n, "exact": []} if line == "[Term]" else None
                    continue
                if current is None:
                    continue  # header or a [Typedef] stanza
                tag, sep, value = line.partition(":")
                if not sep:
                    raise SourceError(f"{where(path, n)}: expected a 'tag: value' line")
                tag, value = tag.strip(), value.strip()
                if tag == "id":
                    current["id"] = value
                elif tag == "name":
                    current["name"] = value
                elif tag == "def":
                    current["def"] = _quoted(value, path, n, "def")[0]
                elif tag == "synonym":
                    text, rest = _quoted(value, path, n, "synonym")
                    if rest.split(" ", 1)[0] == "EXACT" and text:
                        current["exact"].append(text)
                elif tag == "is_obsolete":
                    current["obsolete"] = value.lower() == "true"
            close()
    except SourceError:
        raise
    except (UnicodeDecodeError, OSError) as e:
        raise _read_guard(path, n + 1, e) from None
    return terms


def write_obo_tasks(path: Path, writer: TaskWriter) -> None:
    terms = read_obo_terms(path)
    if not terms:
        raise SourceError(f"{where(path)}: no [Term] stanza (expected the OBO release of the Disease Ontology)")
    streams: dict[tuple[str, str], object] = {}

    def add(task: str, split: str, text: str, output: str, iid: str) -> None:
        if (task, split) not in streams:  # opened on first use: a small file may lack synonyms or held-out terms
            streams[(task, split)] = writer.open(task, split, definition=DEFINITIONS[task])
        streams[(task, split)].add(text, output, id=iid)

    for t in terms:
        seen = {t["name"].lower()}
        exact = []
        for s in t["exact"]:
            if s.lower() not in seen:
                seen.add(s.lower())
                exact.append(s)
        if exact:
            add(SYN, "train", t["name"], ", ".join(exact), t["id"])
        if t.get("def"):
            add(EXPLAIN, "test" if heldout(t["id"]) else "train", t["name"], t["def"], t["id"])
    if not streams:
        raise SourceError(f"{where(path)}: no term has an exact synonym or a definition")


def convert(data_dir: Path, writer: TaskWriter) -> None:
    tsv, obo = data_dir / FILE, data_dir / OBO
    if not tsv.is_file() and not obo.is_file():
        raise SourceError(f"DO: neither {FILE} (-> task47) nor {OBO} (-> task45, task46) is in {data_dir}; "
                          f"both are distributed at {HOMEPAGE}")
    if tsv.is_file():
        write_relations(tsv, writer)
    if obo.is_file():
        write_obo_tasks(obo, writer)


CONVERTER = Converter(
    name="disease_ontology",
    source="DO",
    access="public",
    raw_files=(
        RawFile(FILE, f"Human Disease Ontology terms: id, label, parent label -> task47 ({HOMEPAGE})", required=False),
        RawFile(OBO, f"Human Disease Ontology in OBO format (names, definitions, synonyms) -> task45, task46 ({HOMEPAGE})",
                required=False),
    ),
    task_ids=(TASK, SYN, EXPLAIN),
    convert=convert,
    notes="task47 from HumanDO.tsv (parent/child/unrelated; no synonym pairs); task45 (exact synonyms) and task46 "
          "(definitions; 5% hash-held-out terms as test) from doid.obo. Either file may be absent.",
)
