"""Helpers shared by the raw-source converters of this folder (not a converter itself: the
leading underscore keeps it out of converter discovery).

Everything here is written with credentialed sources in mind: error messages name the
file, the line (or record) and the field, never the content of a record, because raw
MIMIC / MedNLI text must not end up in logs, terminals or bug reports. Exceptions raised
while reading are re-raised as :class:`SourceError` *without* chaining (``from None``):
some standard exceptions carry the offending text (``JSONDecodeError.doc``,
``ValueError("invalid literal ... 'text'")``) and a traceback would print it.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import json
import logging
import random
import re
import sys
import traceback
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO

from medsins_datasets.sources.converters import TaskWriter
from medsins_datasets.errors import MedsinsError, SourceError

logger = logging.getLogger(__name__)

#: Share of patients held out for test sets of sources that have no official split. The
#: hash of the patient id decides, so a patient is held out in every MIMIC-derived source
#: at once (MIMIC-IV-Note, MIMIC-CXR and MIMIC-IV-ED share subject ids).
HELDOUT_FRACTION = 0.05
HELDOUT_SALT = "medsins-heldout-v1"

#: Test instances per task drawn (seeded) from held-out patients where a source has no
#: official test split; the paper evaluated 100 random instances per MIMIC task.
TEST_PER_TASK = 100


def where(path: Path | str, line: int | None = None, field: str | None = None) -> str:
    """``file X, line N, field 'f'`` - the position of a problem, never its content."""
    parts = [f"file {Path(path).name}"]
    if line is not None:
        parts.append(f"line {line}")
    if field is not None:
        parts.append(f"field {field!r}")
    return ", ".join(parts)


def open_text(path: Path) -> TextIO:
    """Open a UTF-8 text file, gzip-compressed when its name ends with ``.gz``, or the one file
    of a ``.zip`` archive."""
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:  # the archive's file stays open until the member is closed
            members = [m for m in zf.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise SourceError(f"{where(path)}: expected one file in the archive, found {len(members)}")
            return io.TextIOWrapper(zf.open(members[0]), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def first_match(data_dir: Path, patterns: Sequence[str]) -> Path | None:
    """The first file (sorted) that matches the first pattern with a match."""
    for pat in patterns:
        hits = sorted(p for p in data_dir.glob(pat) if p.is_file())
        if hits:
            return hits[0]
    return None


def _read_guard(path: Path, line: int | None, exc: BaseException) -> SourceError:
    """A content-free error for a low-level read failure."""
    if isinstance(exc, UnicodeDecodeError):
        return SourceError(f"{where(path, line)}: the file is not UTF-8 text (byte offset {exc.start} of that chunk)")
    if isinstance(exc, (EOFError, gzip.BadGzipFile, zipfile.BadZipFile)):
        return SourceError(f"{where(path, line)}: the compressed file is truncated or corrupt")
    if isinstance(exc, OSError):
        return SourceError(f"{where(path, line)}: cannot read the file ({type(exc).__name__}, errno {exc.errno})")
    return SourceError(f"{where(path, line)}: cannot read the file ({type(exc).__name__})")


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of a JSON-lines file."""
    n = 0
    try:
        with open_text(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise SourceError(
                        f"{where(path, n)}: not a valid JSON object ({e.msg} at column {e.colno})"
                    ) from None
                if not isinstance(obj, dict):
                    raise SourceError(f"{where(path, n)}: expected a JSON object, got a JSON {type(obj).__name__}")
                yield n, obj
    except SourceError:
        raise
    except (UnicodeDecodeError, OSError, EOFError) as e:
        raise _read_guard(path, n + 1, e) from None


def load_json(path: Path) -> Any:
    """A whole JSON file (``.gz`` allowed), with a content-free error message."""
    try:
        with open_text(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise SourceError(f"{where(path, e.lineno)}: not valid JSON ({e.msg} at column {e.colno})") from None
    except (UnicodeDecodeError, OSError, EOFError) as e:
        raise _read_guard(path, None, e) from None


def json_records(path: Path, data: Any, what: str = "list of records", start: int = 0) -> Iterator[tuple[int, dict]]:
    """``(number, object)`` for each record of ``data`` (the JSON read from ``path``), which must
    be a list of objects (checked at once, the records as they are read); ``what`` names the
    expected list in the error, ``start`` the first number."""
    if not isinstance(data, list):
        raise SourceError(f"{where(path)}: expected a JSON {what}")

    def records() -> Iterator[tuple[int, dict]]:
        for k, obj in enumerate(data, start):
            if not isinstance(obj, dict):
                raise SourceError(f"{where(path)}: record {k} is not a JSON object")
            yield k, obj

    return records()


def text_field(obj: dict, key: str, path: Path, line: int | None, *, allow_empty: bool = False) -> str:
    """``obj[key]`` as a stripped string, or an error naming file, line and field."""
    v = obj.get(key)
    if not isinstance(v, str):
        state = "missing" if v is None else f"not a string (a JSON {type(v).__name__})"
        raise SourceError(f"{where(path, line, key)}: {state}")
    v = v.strip()
    if not v and not allow_empty:
        raise SourceError(f"{where(path, line, key)}: empty")
    return v


def _raise_csv_field_limit() -> None:
    # clinical notes exceed csv's default 128 KiB field limit
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


def iter_csv(path: Path, required: Sequence[str], *, delimiter: str = ",",
             lower_header: bool = False) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for each record of a CSV file (``.gz`` allowed).

    The header must hold every column in ``required`` (compared lower-cased when
    ``lower_header``, and the rows are then keyed by lower-cased names). The line number is
    the line on which the record ends (records may span lines: notes hold newlines).
    """
    _raise_csv_field_limit()
    line = 0
    try:
        with open_text(path) as f:
            reader = csv.reader(f, delimiter=delimiter)
            try:
                header = next(reader)
            except StopIteration:
                raise SourceError(f"{where(path)}: the file is empty (expected a header with {', '.join(required)})") from None
            header = [h.strip().lstrip("\ufeff") for h in header]
            if lower_header:
                header = [h.lower() for h in header]
            missing = [c for c in required if c not in header]
            if missing:
                raise SourceError(
                    f"{where(path, 1)}: missing column(s) {', '.join(missing)} "
                    f"(the header has {', '.join(header) or 'no columns'})"
                )
            width = len(header)
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as e:
                    raise SourceError(f"{where(path, reader.line_num)}: malformed CSV ({e})") from None
                line = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != width:
                    raise SourceError(
                        f"{where(path, line)}: the record has {len(row)} field(s), the header {width}"
                    )
                yield line, dict(zip(header, row))
    except SourceError:
        raise
    except (UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise _read_guard(path, line + 1, e) from None


def heldout(key: str, fraction: float = HELDOUT_FRACTION) -> bool:
    """Whether the patient (or other unit) ``key`` belongs to the held-out test pool."""
    h = hashlib.sha256(f"{HELDOUT_SALT}:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") < fraction * 2**64


class Reservoir:
    """A seeded uniform sample of at most ``k`` items from a stream, kept in stream order."""

    def __init__(self, k: int, seed: str):
        self.k = k
        self.rng = random.Random(seed)
        self.seen = 0
        self._items: list[tuple[int, Any]] = []

    def offer(self, item: Any) -> None:
        self.seen += 1
        if len(self._items) < self.k:
            self._items.append((self.seen, item))
        else:
            j = self.rng.randrange(self.seen)
            if j < self.k:
                self._items[j] = (self.seen, item)

    def items(self) -> list[Any]:
        return [it for _, it in sorted(self._items, key=lambda x: x[0])]


@dataclass
class Outputs:
    """Opens a task file only when its first instance arrives.

    Sources whose records are routed to many tasks (a report per modality...) may leave
    some task empty on a given copy of the data; such a task is then simply not written
    (and logged) instead of failing the run with an empty file.
    """

    writer: TaskWriter
    definitions: dict[str, str]
    extra: dict[str, dict] = field(default_factory=dict)
    _streams: dict[tuple[str, str], Any] = field(default_factory=dict)

    def add(self, task_id: str, split: str, input: str, output: str | Iterable[str], id: str) -> None:
        key = (task_id, split)
        stream = self._streams.get(key)
        if stream is None:
            stream = self.writer.open(task_id, split, definition=self.definitions[task_id],
                                      extra=self.extra.get(task_id))
            self._streams[key] = stream
        stream.add(input, output, id=id)

    def count(self, task_id: str, split: str | None = None) -> int:
        return sum(s.count for (t, sp), s in self._streams.items() if t == task_id and (split is None or sp == split))

    @property
    def total(self) -> int:
        return sum(s.count for s in self._streams.values())

    def report_empty(self, source: str, task_ids: Iterable[str], splits: Iterable[str]) -> list[str]:
        """Log (by name only) the task/split pairs that received no instance."""
        empty = [f"{t}/{s}" for t in task_ids for s in splits if (t, s) not in self._streams]
        if empty:
            logger.warning("%s: no instances for %s (not written)", source, ", ".join(empty))
        return empty


_PUNCT_END = re.compile(r"[.!?:;]$")


def end_with_period(text: str) -> str:
    """``text`` stripped, with a full stop appended unless it already ends a sentence."""
    text = text.strip()
    return text if not text or _PUNCT_END.search(text) else text + "."


def content_free_errors(source: str) -> Callable:
    """Decorator for the ``convert`` function of a credentialed converter.

    Our own errors already name only positions. Any *other* exception (a bug, or data the
    code did not foresee) could carry record text in its message or in chained
    exceptions, so it is replaced by a :class:`SourceError` that names the exception type
    and the code locations of its traceback - enough to debug, nothing from the data.
    """

    def decorate(fn: Callable[[Path, TaskWriter], None]) -> Callable[[Path, TaskWriter], None]:
        @functools.wraps(fn)
        def guarded(data_dir: Path, writer: TaskWriter) -> None:
            try:
                fn(data_dir, writer)
            except MedsinsError:
                raise
            except Exception as e:  # noqa: BLE001 - deliberately broad, see the docstring
                frames = traceback.extract_tb(e.__traceback__)
                where_ = " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames[-4:]))
                raise SourceError(
                    f"{source}: conversion failed with {type(e).__name__} at {where_}; the message is withheld "
                    "because the data is credentialed (please report the location)"
                ) from None

        return guarded

    return decorate


def iter_squad(path: Path) -> Iterator[tuple[str, tuple[int, int, int], dict, str, str]]:
    """Each question of a SQuAD-layout JSON file (``data`` > ``paragraphs`` > ``qas``):
    ``(location, (article, paragraph, question) indexes, qa object, question text, context)``.
    A missing list or an empty question is an error naming the file and the location."""
    data = load_json(path)
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise SourceError(f"{where(path)}: expected SQuAD layout, an object with a 'data' list")
    for a, article in enumerate(articles):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise SourceError(f"{where(path, None, 'paragraphs')}: data[{a}] has no 'paragraphs' list")
        for p, para in enumerate(paragraphs):
            qas = para.get("qas") if isinstance(para, dict) else None
            if not isinstance(qas, list):
                raise SourceError(f"{where(path, None, 'qas')}: data[{a}].paragraphs[{p}] has no 'qas' list")
            context = para.get("context") if isinstance(para.get("context"), str) else ""
            for q, qa in enumerate(qas):
                loc = f"data[{a}].paragraphs[{p}].qas[{q}]"
                question = qa.get("question") if isinstance(qa, dict) else None
                if not isinstance(question, str) or not question.strip():
                    raise SourceError(f"{where(path, None, 'question')}: {loc} has no question text")
                yield loc, (a, p, q), qa, question, context


def review_split_files(data_dir: Path, splits: dict[str, str], source: str, homepage: str
                       ) -> Iterator[tuple[str, str, Path, Path]]:
    """``(split, file prefix, inputs, targets)`` for each split whose MSLR-style
    ``<prefix>-inputs.csv`` and ``<prefix>-targets.csv`` are both in ``data_dir``; the training
    pair is required (an error naming both files and where they are distributed)."""
    for split, prefix in splits.items():
        inputs = first_match(data_dir, (f"{prefix}-inputs.csv",))
        targets = first_match(data_dir, (f"{prefix}-targets.csv",))
        if inputs is None or targets is None:
            if split == "train":
                raise SourceError(f"{source}: train-inputs.csv and train-targets.csv are needed in {data_dir} "
                                  f"(see {homepage})")
            continue
        yield split, prefix, inputs, targets


def iter_review_studies(inputs: Path) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """``(ReviewID, [(title, abstract), ...])`` per review of an MSLR-style ``*-inputs.csv``
    (one row per included study), yielded once the review's last row is read (rows of one review
    need not be adjacent); titles and abstracts have their whitespace collapsed. An empty
    ReviewID, or a study with neither title nor abstract, is an error naming the line."""
    required = ("ReviewID", "Title", "Abstract")
    rows_per_review = Counter(row["ReviewID"].strip() for _, row in iter_csv(inputs, required))
    pending: dict[str, list[tuple[str, str]]] = {}
    for line, row in iter_csv(inputs, required):
        rid = row["ReviewID"].strip()
        if not rid:
            raise SourceError(f"{where(inputs, line, 'ReviewID')}: empty")
        title, abstract = " ".join(row["Title"].split()), " ".join(row["Abstract"].split())
        if not title and not abstract:
            raise SourceError(f"{where(inputs, line, 'Title')}: the study has neither title nor abstract")
        studies = pending.setdefault(rid, [])
        studies.append((title, abstract))
        if len(studies) == rows_per_review[rid]:
            yield rid, pending.pop(rid)
