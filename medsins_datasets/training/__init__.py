"""Pieces of the SFT recipe (``recipes/sft.py``) that are worth testing on their own.

* :mod:`~medsins_datasets.training.args`: :class:`SFTScriptArguments`, the recipe's own options
  (data source, mixture spec, ...), parsed by TRL's ``TrlParser`` next to ``SFTConfig`` and
  ``ModelConfig``; :func:`mixture_spec_from_arg`, the ``mixture`` option (YAML mapping / JSON /
  file) as a :class:`~medsins_datasets.mixture.MixtureSpec`;
* :mod:`~medsins_datasets.training.dataset`: :func:`load_chat_template` /
  :func:`training_row_form`: whether training rows are chat turns (through the tokenizer's chat
  template) or plain text, decided as ``medsins bench`` decides how to prompt the same model, so
  that training and inference see the same prompt tokens; :func:`mixture_train_dataset`: a planned
  mixture as a map-style ``datasets.Dataset`` (cached on disk by a fingerprint of the spec, the
  task files and the code the rows come from), in TRL's prompt-completion format;
  :func:`check_prompt_lengths`: fail (or drop rows) before training when a prompt leaves no room
  for its completion under ``max_length``;
* :mod:`~medsins_datasets.training.hub`: :class:`PushGuard`, a callback that keeps every
  background Hub push of the Trainer and reports the failed ones at the end (transformers drops
  them silently); :func:`resolve_resume`: ``resume_from_checkpoint`` as a local folder, the last
  local checkpoint or the ``last-checkpoint/`` folder pushed to the Hub;
* :mod:`~medsins_datasets.training.card`: :func:`model_card`, a model card recording the base
  model, the exact mixture, the hyper-parameters and the library versions, and
  :func:`make_trainer_class`, the ``SFTTrainer`` that writes it.

Heavy libraries (torch, transformers, trl, datasets) are imported inside the functions.
"""

from medsins_datasets.training.args import SFTScriptArguments, json_option, mixture_spec_from_arg
from medsins_datasets.training.card import (
    KEY_HYPERPARAMETERS,
    RunInfo,
    hyperparameters,
    library_versions,
    make_trainer_class,
    model_card,
)
from medsins_datasets.training.dataset import (
    ROW_CODE,
    PromptLengthReport,
    check_prompt_lengths,
    load_chat_template,
    mixture_train_dataset,
    prepare_training_set,
    tiny_corpus,
    training_row_form,
)
from medsins_datasets.training.hub import PushGuard, resolve_resume

__all__ = [
    "KEY_HYPERPARAMETERS", "ROW_CODE", "PromptLengthReport", "PushGuard", "RunInfo", "SFTScriptArguments",
    "check_prompt_lengths", "hyperparameters", "json_option", "library_versions", "load_chat_template",
    "make_trainer_class", "mixture_spec_from_arg", "mixture_train_dataset", "model_card", "prepare_training_set",
    "resolve_resume", "tiny_corpus", "training_row_form",
]
