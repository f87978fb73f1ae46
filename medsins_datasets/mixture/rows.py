"""One mixture row: what it is rendered from (:class:`MixtureExample`), how it is rendered
(:func:`render_training_row`, :func:`fit_shots`) and its ``datasets.Features`` (:func:`row_features`,
the one definition of the SFT rows' schema, used by the mixture's datasets and by
:mod:`medsins_datasets.training`).

Rows are rendered in the **official MedS-Bench layout** by default (``layout="official"``), the
layout ``medsins bench`` prompts with, so a model trained on a mixture sees what it is evaluated
with: a system message (the shots, then the definition and the few-shot sentence) and a user
message (the input), see :func:`medsins_datasets.prompts.render_messages`. Rows are chat turns for
a model's chat template, or (``plain=True``) the official plain text for a model without one; a
plain prompt always ends on a newline, so that the completion starts a new token.
``layout="paper"`` keeps the paper's prose template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from medsins_datasets.errors import MedsinsError
from medsins_datasets.mixture.spec import FORMATS, LAYOUTS
from medsins_datasets.prompts import (
    OFFICIAL_SENTENCE,
    PAPER_TEMPLATE,
    PromptTemplate,
    fit_prompt,
    render_messages,
    render_plain,
    to_messages,
)

#: how every plain-text prompt ends (its trailing whitespace is removed, then this is appended), so
#: that the completion starts a new token: glued to the input ("...about pain." + "pain 2") its first
#: token can merge with the prompt's last one, and TRL then drops the end of the prompt from the
#: training sequence. Official few-shot prompts already end with "Output:\n" (unchanged); zero-shot
#: and paper-layout prompts gain it.
PLAIN_SEPARATOR = "\n"


class MixtureExample(NamedTuple):
    """One mixture row before rendering."""

    task: str  # config name
    id: str
    definition: str
    input: str
    shots: tuple[tuple[str, str], ...]  # (input, output) cases shown in the prompt
    output: str  # the answer (the completion)


def fit_shots(definition: str, input: str, shots: Sequence[tuple[str, str]], *, layout: str = "official",
              template: PromptTemplate = PAPER_TEMPLATE, max_chars: int | None = None) -> list[tuple[str, str]]:
    """The shots kept when the prompt may have at most ``max_chars`` characters: dropped from the
    last one until it fits (official layout: measured on its plain text, as ``medsins bench`` does;
    paper: on the paper prompt). The definition and the input are never cut."""
    shots = list(shots)
    if max_chars is None or not shots:
        return shots
    if layout == "paper":
        return shots[:fit_prompt(definition, input, shots, template=template, max_length=max_chars)[1]]
    k = len(shots)
    while k and len(render_plain(definition, input, shots[:k])) > max_chars:
        k -= 1
    return shots[:k]


def render_training_row(definition: str, input: str, answer: str, shots: Sequence[tuple[str, str]] = (), *,
                        layout: str = "official", plain: bool = False, format: str = "prompt_completion",
                        template: PromptTemplate = PAPER_TEMPLATE) -> dict:
    """One training row (without ``task``/``id``).

    ``layout="official"``: the MedS-Bench messages of :func:`~medsins_datasets.prompts.render_messages`
    (what ``medsins bench`` feeds a chat model); ``"paper"``: the paper's prose as one user turn.

    * chat rows (``plain=False``): ``format="prompt_completion"`` gives TRL's conversational
      prompt-completion row ``{"prompt": [system, user], "completion": [assistant]}`` (paper:
      ``[user]``); ``format="messages"`` gives ``{"messages": [..., assistant]}``. The tokenizer's
      chat template renders them, exactly as the benchmark runner renders the prompt.
    * plain rows (``plain=True``, models without a chat template): ``{"prompt": text,
      "completion": answer}`` with the official plain text of
      :func:`~medsins_datasets.prompts.render_plain` (what ``medsins bench`` feeds such a model) or
      the paper prompt. The prompt always ends with exactly one newline, so the completion starts a
      new token: trailing whitespace is removed and :data:`PLAIN_SEPARATOR` appended. Official
      few-shot prompts already end so (``"Output:\\n"``) and are unchanged; zero-shot and paper
      prompts gain the newline.

    The answer is stripped of surrounding whitespace (the official chat formatter strips message
    contents, and a leading space or newline would merge with the prompt's last token).
    """
    if layout not in LAYOUTS:
        raise MedsinsError(f"unknown prompt layout {layout!r}; one of {LAYOUTS}")
    if format not in FORMATS:
        raise MedsinsError(f"unknown mixture format {format!r}; one of {FORMATS}")
    answer = answer.strip()
    if plain:
        if format != "prompt_completion":
            raise MedsinsError("plain rows need format 'prompt_completion'")
        text = (render_plain(definition, input, shots, sentence=OFFICIAL_SENTENCE) if layout == "official"
                else template.render(definition, input, shots))
        return {"prompt": text.rstrip() + PLAIN_SEPARATOR, "completion": answer}
    if layout == "official":
        msgs = render_messages(definition, input, shots, sentence=OFFICIAL_SENTENCE)
    else:
        msgs = to_messages(template.render(definition, input, shots))
    reply = {"role": "assistant", "content": answer}
    if format == "messages":
        return {"messages": msgs + [reply]}
    return {"prompt": msgs, "completion": [reply]}


def row_features(format: str = "prompt_completion", plain: bool = False):
    """The ``datasets.Features`` of mixture rows (with their ``task`` and ``id`` columns):
    ``messages`` chat turns, ``prompt``/``completion`` chat turns, or (``plain``)
    ``prompt``/``completion`` strings. The training set of the SFT recipe has the
    ``prompt_completion`` form of the same rows."""
    import datasets

    s = datasets.Value("string")
    turns = datasets.List({"role": s, "content": s})
    if format == "messages":
        return datasets.Features({"messages": turns, "task": s, "id": s})
    if plain:
        return datasets.Features({"prompt": s, "completion": s, "task": s, "id": s})
    return datasets.Features({"prompt": turns, "completion": turns, "task": s, "id": s})
