"""Card helpers shared by every card medsins writes (dataset, mixture, leaderboard, model, results).

Card bodies are template files in ``templates/`` filled in with :class:`string.Template`;
the Hub's own validator checks the result.
"""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medsins_datasets.errors import MedsinsError

if TYPE_CHECKING:
    from huggingface_hub import RepoCard

LANGUAGE_CODES = {
    "English": "en", "Chinese": "zh", "Japanese": "ja", "French": "fr", "Russian": "ru",
    "Spanish": "es", "German": "de", "Swedish": "sv", "Catalan": "ca",
}


def render_template(name: str, **values: Any) -> str:
    """The card body ``templates/<name>`` with its ``${placeholders}`` filled in (all required)."""
    text = (resources.files("medsins_datasets") / "templates" / name).read_text(encoding="utf-8")
    return string.Template(text).substitute({k: str(v) for k, v in values.items()})


def validate_card(card: "str | Path | RepoCard", *, repo_type: str | None = None) -> None:
    """Check a card with the Hub's own validator (``RepoCard.validate``: ``POST /api/validate-yaml``
    on ``HF_ENDPOINT``; it needs the Hub or a stand-in). ``card`` is a card or a README.md path.

    Raises :class:`MedsinsError` naming what failed: the Hub's reasons for a rejected card, or why
    the validator could not be reached.
    """
    from huggingface_hub import DatasetCard, RepoCard
    from huggingface_hub.errors import HfHubHTTPError

    where = "the card"
    if not isinstance(card, RepoCard):
        where = str(card)
        try:
            card = DatasetCard.load(Path(card))
        except (OSError, ValueError) as e:
            raise MedsinsError(f"{where}: cannot read the card: {e}") from e
    try:
        card.validate(repo_type=repo_type)
    except ValueError as e:
        raise MedsinsError(f"{where}: the Hub's card validator rejected it: {e}") from e
    except (HfHubHTTPError, OSError) as e:  # offline, unreachable endpoint, server error
        raise MedsinsError(f"{where}: cannot reach the Hub's card validator: {e}") from e


#: the paper's BibTeX entry: its one copy, read by the cards, the builder and the ``meds_bench`` metric
CITATION_FILE = "citation.bib"


def citation() -> str:
    """The BibTeX entry of the MedS-Ins / MedS-Bench paper (``data/citation.bib``), ending with a newline."""
    return resources.files("medsins_datasets").joinpath("data", CITATION_FILE).read_text(encoding="utf-8")
