"""The SFT recipe's own options: :class:`SFTScriptArguments` (parsed by TRL's ``TrlParser`` next
to ``SFTConfig`` and ``ModelConfig``) and :func:`mixture_spec_from_arg`, the ``mixture`` option
(YAML mapping / JSON / file) as a :class:`~medsins_datasets.mixture.spec.MixtureSpec`, built by
the spec's own constructors (``MixtureSpec.from_dict`` / ``from_file``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from medsins_datasets.errors import MedsinsError
from medsins_datasets.mixture.spec import MixtureSpec, read_spec_file


@dataclass
class SFTScriptArguments:
    """Options of ``recipes/sft.py`` besides TRL's ``SFTConfig`` and ``ModelConfig``."""

    dataset_source: str | None = field(
        default=None,
        metadata={"help": "MedS-Ins data: a folder of task<ID>_<name>.json files, 'hub', 'hf://datasets/ORG/NAME' "
                          "or 'raw:<converter>:<raw-data-folder>'"},
    )
    mixture: dict | str | None = field(
        default=None,
        metadata={"help": "the training mixture (MixtureSpec fields: tasks, categories, max_per_task, temperature, "
                          "few_shot_ratio, rewrite_prob, seed, format, ...). In YAML a mapping (or the path of a "
                          "mixture file); on the command line a JSON object, merged key by key over the YAML mapping, "
                          "or the path of a YAML/JSON mixture file that replaces it. Prompts are in the official "
                          "MedS-Bench layout (layout: official) unless layout: paper."},
    )
    use_chat_template: bool | None = field(
        default=None,
        metadata={"help": "training rows as chat turns rendered by the tokenizer's chat template (true) or as the "
                          "official plain text (false). Default (null): chat turns when the tokenizer has a chat "
                          "template (after chat_template_path), plain text otherwise, which is how `medsins bench` "
                          "prompts the trained model; mixture plain: true also chooses plain text. Training plain "
                          "drops the tokenizer's chat template, so the saved model is benchmarked on plain text too."},
    )
    mixture_cache_dir: str | None = field(
        default=None, metadata={"help": "where task files and the rendered mixture are cached "
                                        "(default: $MEDSINS_CACHE/mixture)"},
    )
    long_prompts: Literal["error", "drop"] = field(
        default="error",
        metadata={"help": "a row whose prompt alone fills max_length would train on nothing: 'error' stops before "
                          "training, 'drop' leaves such rows out (with a warning)"},
    )
    tiny_model_config: dict | str | None = field(
        default=None,
        metadata={"help": "sizes of the random model built for model_name_or_path 'tiny-random-llama' "
                          "(vocab_size, hidden_size, num_hidden_layers, ...; JSON on the command line)"},
    )
    allow_push_failures: bool = field(
        default=False,
        metadata={"help": "report failed background pushes to the Hub as a warning instead of an error "
                          "(exit status 3) at the end of training"},
    )
    model_license: str | None = field(
        default=None, metadata={"help": "licence written in the model card (e.g. 'llama3', 'apache-2.0')"},
    )


# --------------------------------------------------------------------------- mixture option


def _as_mapping(value: Any, what: str) -> dict:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str):
        s = value.strip()
        if s.startswith("{"):
            try:
                data = json.loads(s)
            except json.JSONDecodeError as e:
                raise MedsinsError(f"{what} is not a valid JSON object: {e}") from None
            if not isinstance(data, dict):
                raise MedsinsError(f"{what} must be a JSON object")
            return data
        return read_spec_file(s)
    raise MedsinsError(f"{what} must be a mapping, a JSON object or a file path, got {type(value).__name__}")


def mixture_spec_from_arg(value: Any, yaml_value: Any = None) -> MixtureSpec:
    """The ``mixture`` option as a ``MixtureSpec``.

    ``yaml_value`` is what the YAML config set (the parser default); ``value`` what was finally parsed.
    A JSON object given on the command line is merged key by key over the YAML mapping; the path of
    a mixture file replaces it (:meth:`MixtureSpec.from_file`, whose errors name the file).
    """
    if isinstance(value, str) and value.strip().startswith("{") and yaml_value is not None and value is not yaml_value:
        merged = _as_mapping(yaml_value, "mixture (config file)")
        merged.update(_as_mapping(value, "--mixture"))
        return MixtureSpec.from_dict(merged)
    if isinstance(value, str) and not value.strip().startswith("{"):
        return MixtureSpec.from_file(value.strip())
    return MixtureSpec.from_dict(_as_mapping(value, "mixture"))


def json_option(value: Any, name: str) -> dict | None:
    """A dict option that may arrive as a mapping (YAML), a JSON object (command line) or a file path."""
    if value is None or isinstance(value, dict):
        return value
    return _as_mapping(value, name)
