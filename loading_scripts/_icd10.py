"""ICD-10-CM / ICD-10-PCS code tables as CMS publishes them.

CMS's yearly "Code Descriptions in Tabular Order" downloads hold, per code system:

* ``icd10cm_order_<year>.txt`` / ``icd10pcs_order_<year>.txt``: fixed columns - order
  number (5), code (7, left-justified), header flag (0 = category / table header,
  1 = valid code), short description (60), long description;
* ``icd10cm_codes_<year>.txt`` / ``icd10pcs_codes_<year>.txt``: valid codes only, the code
  then whitespace then the long description.

Codes are written without the dot in both files (and in MIMIC-IV); :func:`display_code`
puts the dot of an ICD-10-CM code back (``A000`` -> ``A00.0``).
"""

from __future__ import annotations

import re
from pathlib import Path

from medsins_datasets.errors import SourceError

from ._rawfiles import _read_guard, where

CMS_URL = "https://www.cms.gov/medicare/coding-billing/icd-10-codes (Code Descriptions in Tabular Order)"

_CODE_RE = re.compile(r"^[0-9A-Z]{3,7}$")


def find_table(data_dir: Path, system: str, kind: str) -> Path | None:
    """The newest ``icd10<system>_<kind>_<year>.txt`` under ``data_dir`` (addenda excluded)."""
    hits = [p for p in data_dir.glob(f"**/icd10{system}[_-]{kind}*.txt")
            if p.is_file() and "addend" not in p.name.lower()]
    return sorted(hits, key=lambda p: (p.name, str(p)))[-1] if hits else None


def read_table(path: Path, *, valid_only: bool = False) -> dict[str, str]:
    """{code without dot: long description} from an order file or a codes file."""
    order = "order" in path.name.lower()
    table: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="strict") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                if order:
                    code, flag, desc = line[6:13].strip(), line[14:15], line[77:].strip()
                    if not line[:5].isdigit() or flag not in ("0", "1"):
                        raise SourceError(f"{where(path, n)}: not in the fixed-column layout of a CMS order file")
                    if valid_only and flag != "1":
                        continue
                else:
                    parts = line.split(None, 1)
                    code, desc = parts[0], (parts[1].strip() if len(parts) > 1 else "")
                if not _CODE_RE.match(code) or not desc:
                    raise SourceError(f"{where(path, n)}: expected an ICD-10 code followed by its description")
                table[code] = desc
    except UnicodeDecodeError as e:
        raise _read_guard(path, None, e) from None
    except OSError as e:
        raise _read_guard(path, None, e) from None
    if not table:
        raise SourceError(f"{where(path)}: no codes")
    return table


def display_code(code: str, system: str) -> str:
    """An ICD-10-CM code with its dot (after the category's 3 characters); PCS codes have none."""
    code = code.replace(".", "").strip().upper()
    return f"{code[:3]}.{code[3:]}" if system == "cm" and len(code) > 3 else code


def load_system(data_dir: Path, system: str, *, required: bool, valid_only: bool = False) -> dict[str, str]:
    """The table of one code system, preferring the order file (it also lists category headers)."""
    path = find_table(data_dir, system, "order") or find_table(data_dir, system, "codes")
    if path is None:
        if required:
            raise SourceError(
                f"no ICD-10-{system.upper()} code table in {data_dir}: expected icd10{system}_order_<year>.txt or "
                f"icd10{system}_codes_<year>.txt from {CMS_URL}"
            )
        return {}
    return read_table(path, valid_only=valid_only)
