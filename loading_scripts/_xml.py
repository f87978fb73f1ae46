"""XML reading for the converters: parse errors name the file and line, text is tidied."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

from medsins_datasets.errors import SourceError

from ._rawfiles import where


def parse_xml(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise SourceError(f"{where(path, line)}: not well-formed XML") from None
    except OSError as e:
        raise SourceError(f"{where(path)}: cannot read the file ({type(e).__name__})") from None


def clean_text(text: str | None) -> str:
    """Element text with (doubly) escaped entities decoded and runs of whitespace collapsed."""
    if not text:
        return ""
    return " ".join(html.unescape(html.unescape(text)).split())
