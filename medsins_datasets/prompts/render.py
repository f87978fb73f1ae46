"""Prompt rendering: the official MedS-Bench protocol (the default) and the paper's prose template.

**Official layout** (what the official evaluation code ``Evaluation/EvalDataset.py`` builds and
what the official example outputs record, byte for byte): two chat messages,

* system: the shots, each ``"Input:\n" + input + "\n\nOutput:\n" + output + "\n"``, joined
  with ``"\n\n"``, then ``"\n\n"``, then the definition immediately followed (no space) by
  :data:`OFFICIAL_SENTENCE` (spelled "ouput", as in every recorded official prompt);
* user: ``"Input:\n" + input + "\nOutput:\n"``;

each stripped (the official Llama 3 formatter strips message contents). Zero-shot, the system
message is the definition alone and the user message the bare input. A model without a chat
template gets ``system + "\n" + user`` before stripping (the official ``default_build_inputs``;
see :func:`render_plain`). :func:`render_messages` gives the messages for any shots.

**Paper layout** (the prose of the paper, section 4.2 and supplementary A.1), one user turn::

    Case1: Input: {CASE1_INPUT}, Output: {CASE1_OUTPUT}
    ...
    {DEFINITION}
    Please learn from the few-shot cases to see what content you have to output.
    Input: {INPUT}
"""


from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Callable, Sequence

#: the sentence of the paper's few-shot template
FEW_SHOT_SENTENCE = "Please learn from the few-shot cases to see what content you have to output."


#: the same sentence as every official recorded prompt spells it ("ouput", sic)
OFFICIAL_SENTENCE = "Please learn from the few-shot cases to see what content you have to ouput."


@dataclass(frozen=True)
class PromptTemplate:
    """The prompt layout. The default is the paper's; every part can be replaced.

    Placeholders: ``zero_shot`` takes ``{definition}`` and ``{input}``; ``case`` takes ``{n}``
    (1-based), ``{input}`` and ``{output}``; ``few_shot`` takes ``{cases}`` (the rendered
    cases joined by ``case_separator``), ``{definition}`` and ``{input}``.
    """

    zero_shot: str = "{definition}\nInput: {input}"
    case: str = "Case{n}: Input: {input}, Output: {output}"
    few_shot: str = "{cases}\n{definition}\n" + FEW_SHOT_SENTENCE + "\nInput: {input}"
    case_separator: str = "\n"

    def __post_init__(self) -> None:
        allowed = {
            "zero_shot": {"definition", "input"},
            "case": {"n", "input", "output"},
            "few_shot": {"cases", "definition", "input"},
        }
        for name, keys in allowed.items():
            text = getattr(self, name)
            try:
                used = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            except ValueError as e:
                raise ValueError(f"prompt template {name!r} is not a valid format string: {e}") from None
            bad = used - keys
            if bad:
                raise ValueError(
                    f"prompt template {name!r} uses unknown placeholder(s) {sorted(bad)}; allowed: {sorted(keys)}"
                )
            if "input" not in used and name != "case":
                raise ValueError(f"prompt template {name!r} must contain {{input}}")

    def render(self, definition: str, input: str, shots: Sequence[tuple[str, str]] = ()) -> str:
        if not shots:
            return self.zero_shot.format(definition=definition, input=input)
        cases = self.case_separator.join(
            self.case.format(n=i, input=si, output=so) for i, (si, so) in enumerate(shots, 1)
        )
        return self.few_shot.format(cases=cases, definition=definition, input=input)


PAPER_TEMPLATE = PromptTemplate()


def render_prompt(
    definition: str,
    input: str,
    shots: Sequence[tuple[str, str]] = (),
    *,
    template: PromptTemplate = PAPER_TEMPLATE,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
) -> str:
    """Render one prompt: zero-shot when ``shots`` is empty, else the paper's few-shot layout.

    ``shots`` are ``(input, output)`` pairs. With ``max_length``, shots are dropped from the
    last one until ``length_fn(prompt) <= max_length`` (``len`` counts characters; pass e.g.
    ``lambda s: len(tokenizer(s).input_ids)`` for a token budget). The definition and the
    evaluated input are never cut: if even the zero-shot prompt is too long it is returned whole.
    """
    return fit_prompt(definition, input, shots, template=template, max_length=max_length, length_fn=length_fn)[0]


def fit_prompt(
    definition: str,
    input: str,
    shots: Sequence[tuple[str, str]] = (),
    *,
    template: PromptTemplate = PAPER_TEMPLATE,
    max_length: int | None = None,
    length_fn: Callable[[str], int] = len,
) -> tuple[str, int]:
    """:func:`render_prompt`, also returning how many shots were kept."""
    prompt = template.render(definition, input, shots)
    if max_length is None or length_fn(prompt) <= max_length:
        return prompt, len(shots)
    for k in range(len(shots) - 1, -1, -1):
        prompt = template.render(definition, input, shots[:k])
        if length_fn(prompt) <= max_length:
            return prompt, k
    return prompt, 0


def official_parts(definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                   sentence: str = OFFICIAL_SENTENCE) -> tuple[str, str]:
    """``(instruction, query)`` of the official layout, before any stripping."""
    if not shots:
        return definition, input
    cases = "\n\n".join("Input:\n" + si + "\n\nOutput:\n" + so + "\n" for si, so in shots)
    return cases + "\n\n" + definition + sentence, "Input:\n" + input + "\nOutput:\n"


def render_messages(definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                    sentence: str = OFFICIAL_SENTENCE) -> list[dict[str, str]]:
    """The official MedS-Bench prompt as ``[{"role": "system", ...}, {"role": "user", ...}]``.

    ``shots`` are ``(input, output)`` pairs; with none, the system message is the definition
    and the user message the input (the official zero-shot form).
    """
    instruction, query = official_parts(definition, input, shots, sentence=sentence)
    return [{"role": "system", "content": instruction.strip()}, {"role": "user", "content": query.strip()}]


def render_plain(definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                 sentence: str = OFFICIAL_SENTENCE) -> str:
    """The official prompt for a model without a chat template (``default_build_inputs``:
    instruction, a newline, the query; the tokenizer adds the BOS token)."""
    instruction, query = official_parts(definition, input, shots, sentence=sentence)
    return (instruction + "\n" if instruction else "") + query


@dataclass(frozen=True)
class ChatPrompt:
    """A prompt in the official layout: ``messages`` for chat-template models and chat APIs,
    ``text`` (:func:`render_plain`) for models without a chat template."""

    messages: tuple[tuple[str, str], ...]  # (role, content), hashable
    text: str

    @classmethod
    def official(cls, definition: str, input: str, shots: Sequence[tuple[str, str]] = (), *,
                 sentence: str = OFFICIAL_SENTENCE) -> "ChatPrompt":
        msgs = render_messages(definition, input, shots, sentence=sentence)
        return cls(tuple((m["role"], m["content"]) for m in msgs),
                   render_plain(definition, input, shots, sentence=sentence))

    def as_messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def __len__(self) -> int:  # prompt length in characters, for sorting and budgets
        return len(self.text)


def to_messages(prompt: str, completion: str | None = None) -> list[dict[str, str]]:
    """Conversational form for chat-template models (TRL's conversational format)."""
    msgs = [{"role": "user", "content": prompt}]
    if completion is not None:
        msgs.append({"role": "assistant", "content": completion})
    return msgs
