"""Section parsing for radiology reports (MIMIC-IV-Note radiology notes, MIMIC-CXR reports).

Both use one template: upper-case top-level headings at the start of a line followed by a
colon (``EXAMINATION:``, ``INDICATION:``, ``TECHNIQUE:``, ``COMPARISON:``, ``FINDINGS:``,
``IMPRESSION:``...). Inside FINDINGS, organ sub-headings (``LOWER CHEST:``, ``LIVER:``)
also appear; they are not in :data:`TOP_HEADINGS`, so they stay part of the findings.

A section runs from its heading to the next top-level heading (the official preparation
cut IMPRESSION at the end of the text, so trailing NOTIFICATION / RECOMMENDATION lines
and addenda ended up in the "summary").
"""

from __future__ import annotations

import re

TOP_HEADINGS = (
    "EXAMINATION", "EXAM", "INDICATION", "INDICATIONS", "CLINICAL HISTORY", "CLINICAL INFORMATION", "HISTORY",
    "REASON FOR EXAMINATION", "REASON FOR EXAM", "TECHNIQUE", "PROCEDURE", "DOSE", "COMPARISON", "COMPARISONS",
    "FINDINGS", "IMPRESSION", "IMPRESSIONS", "CONCLUSION", "CONCLUSIONS", "RECOMMENDATION(S)", "RECOMMENDATIONS",
    "RECOMMENDATION", "NOTIFICATION", "ADDENDUM", "WET READ",
)

_HEADING_RE = re.compile(
    r"^[ \t]*(" + "|".join(re.escape(h) for h in sorted(TOP_HEADINGS, key=len, reverse=True)) + r")[ \t]*:",
    re.MULTILINE,
)

#: a line that starts a new item when reflowing (numbered list, bullet, sub-heading)
_ITEM_START = re.compile(r"^(\d{1,2}[.)]\s|[-*\u2022]\s|[A-Z][A-Z /&()-]{2,40}:)")


def sections(text: str) -> dict[str, str]:
    """{HEADING: raw section text} for the first occurrence of each top-level heading."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found: dict[str, str] = {}
    marks = list(_HEADING_RE.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        found.setdefault(m.group(1), text[m.end():end])
    return found


def reflow(text: str) -> str:
    """Undo hard line wrapping: lines of a paragraph are joined with spaces, paragraphs,
    list items and sub-headings stay on their own lines, runs of spaces become one."""
    out: list[str] = []
    current: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = " ".join(raw.split())
        if not line:
            if current:
                out.append(" ".join(current))
                current = []
            continue
        if current and _ITEM_START.match(line):
            out.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        out.append(" ".join(current))
    return "\n".join(out)
