"""The recipe's training rows: rendered as ``medsins bench`` prompts the trained model
(:func:`load_chat_template`, :func:`training_row_form`), as a cached map-style training set
(:func:`mixture_train_dataset`, :func:`prepare_training_set`), checked against ``max_length``
(:func:`check_prompt_lengths`), and the tiny model's tokenizer corpus (:func:`tiny_corpus`).

The cached training set is keyed by :func:`_plan_fingerprint`: the spec, the task files and the
*code* the rows come from (every module of :data:`ROW_CODE`, by content), so a change to the
mixture, the prompts, the task-file reading or this module makes a new training set.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from medsins_datasets.errors import MedsinsError
from medsins_datasets.mixture.rows import row_features

logger = logging.getLogger(__name__)


def load_chat_template(tokenizer, path: str | None) -> bool:
    """Give ``tokenizer`` the Jinja chat template in ``path`` (SFTConfig's ``chat_template_path``;
    TRL applies it again when the trainer is built, and the saved tokenizer keeps it). Done before
    the training rows are rendered, because their form depends on it. Returns whether a template
    was set."""
    if path is None or str(path).strip() == "":
        return False
    p = Path(path).expanduser()
    if not p.is_file():
        raise MedsinsError(f"chat_template_path {str(path)!r} is not a file (relative paths are resolved from the "
                           "current directory; the recipes' are relative to the repository root)")
    if p.suffix not in (".jinja", ".j2"):
        raise MedsinsError(f"chat_template_path {str(path)!r}: recipes/sft.py takes a Jinja template file "
                           "(.jinja or .j2)")
    tokenizer.chat_template = p.read_text(encoding="utf-8")
    return True


def training_row_form(spec, tokenizer, use_chat_template: bool | None = None):
    """``spec`` with ``plain`` set the way the trained model will be prompted.

    ``medsins bench`` prompts a model through its chat template when its tokenizer has one, and
    with the official plain text otherwise. The training rows follow the same rule: chat turns
    (rendered by TRL with the same template) when the tokenizer has a chat template, plain text
    otherwise. ``use_chat_template`` (true/false) overrides the rule; a mixture with ``plain: true``
    asks for plain text. Contradictions (chat turns without a template, plain text with
    ``use_chat_template: true`` or ``format: messages``) are errors."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if use_chat_template is None:
        chat = has_template and not spec.plain
    else:
        chat = bool(use_chat_template)
        if chat and spec.plain:
            raise MedsinsError("the mixture asks for plain rows (plain: true) but use_chat_template is true; "
                               "set one of them")
    if chat and not has_template:
        what = "mixture format 'messages'" if spec.format == "messages" else "use_chat_template: true"
        raise MedsinsError(f"{what} needs a chat template, and the tokenizer has none (set chat_template_path to a "
                           "Jinja template, or train on plain text: use_chat_template: false with format: "
                           "prompt_completion)")
    if not chat and spec.format == "messages":
        raise MedsinsError("mixture format 'messages' is chat turns, but the rows are plain text here (no chat "
                           "template, use_chat_template: false or plain: true): use format: prompt_completion")
    return dataclasses.replace(spec, plain=not chat)


# --------------------------------------------------------------------------- training set


def _text(x) -> str:
    return x if isinstance(x, str) else "\n".join(m["content"] for m in x)


def tiny_corpus(plan, n: int) -> list[str]:
    """The text of the first ``n`` mixture rows: what the tiny model's tokenizer is trained on."""
    from itertools import islice

    return [_text(r["prompt"]) + " " + _text(r["completion"]) if "prompt" in r else _text(r["messages"])
            for r in islice(plan.iter_rows(), n)]


def prepare_training_set(plan, tokenizer, script_args, training_args):
    """The recipe's training rows for ``tokenizer``: its chat template from
    ``training_args.chat_template_path``, the row form (:func:`training_row_form`, set on
    ``plan.spec``), the map-style dataset (:func:`mixture_train_dataset`) and the prompt-length
    check. Rows rendered as plain text drop the tokenizer's chat template (and
    ``chat_template_path``), so the saved model is benchmarked on plain text too.
    Returns ``(dataset, PromptLengthReport)``; the dataset keeps its ``task``/``id`` columns."""
    if not training_args.chat_template_path:
        training_args.chat_template_path = None  # "" on the command line: no template file
    load_chat_template(tokenizer, training_args.chat_template_path)
    plan.spec = training_row_form(plan.spec, tokenizer, script_args.use_chat_template)
    if plan.spec.plain and getattr(tokenizer, "chat_template", None):
        logger.warning("training on plain-text rows: the tokenizer's chat template is dropped, so the saved model "
                       "is prompted with plain text by `medsins bench` too")
        tokenizer.chat_template = None
        training_args.chat_template_path = None  # TRL would set it again
    logger.info("training rows: %s layout, %s", plan.spec.layout,
                "plain text" if plan.spec.plain else "chat turns through the tokenizer's chat template")
    with training_args.main_process_first(desc="building the MedS-Ins mixture"):
        dataset = mixture_train_dataset(plan, script_args.mixture_cache_dir)
    with training_args.main_process_first(desc="checking prompt lengths"):
        return check_prompt_lengths(dataset, tokenizer, training_args.max_length, policy=script_args.long_prompts,
                                    num_proc=training_args.dataset_num_proc)


#: the code the training rows depend on (package folders and modules, relative to
#: ``medsins_datasets``): the mixture (planning, iteration, rendering), the prompts, the task-file
#: reading and definitions, the contamination check (``exclude_contaminated``) and this module.
#: The cached training set's fingerprint covers the content of every ``.py`` file in them, so a
#: module added to one of these folders is covered too.
ROW_CODE = ("mixture", "prompts", "taskfile", "contamination.py", "training/dataset.py")
#: the ``medsins_datasets`` folder that ROW_CODE is read from
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _row_code_files(root: Path) -> list[Path]:
    """The ``.py`` files of :data:`ROW_CODE` under ``root``, sorted."""
    files: list[Path] = []
    for rel in ROW_CODE:
        p = root / rel
        files.extend(p.rglob("*.py") if p.is_dir() else [p])
    return sorted(files)


def _row_code_fingerprint(root: Path) -> str:
    """A hash of the content (and the package-relative name) of every file of :data:`ROW_CODE`."""
    h = hashlib.sha256()
    for f in _row_code_files(root):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _plan_fingerprint(plan) -> str:
    """The cache key of a planned mixture's training set: medsins version, the code the rows come
    from (:data:`ROW_CODE`), spec, per-task quotas and cached task-file versions, template."""
    from medsins_datasets import __version__

    code = _row_code_fingerprint(_PACKAGE_ROOT)
    files = [[tp.task.config_name, tp.quota, [f.arrow for f in tp.files]] for tp in plan.tasks]
    payload = json.dumps([__version__, code, plan.spec.to_dict(), files, repr(plan.template)], sort_keys=True,
                         default=str)
    return "medsins-sft-" + hashlib.sha256(payload.encode()).hexdigest()[:24]


def _sft_rows(plan):
    for row in plan.iter_rows():
        if "messages" in row:
            msgs = row["messages"]
            yield {"prompt": msgs[:-1], "completion": msgs[-1:], "task": row["task"], "id": row["id"]}
        else:
            yield row


def mixture_train_dataset(plan, cache_dir: str | Path | None = None):
    """The planned mixture as a map-style ``datasets.Dataset`` with ``prompt``/``completion``
    (chat turns: TRL's conversational prompt-completion rows, also for format ``messages``; or
    strings when the spec is ``plain``), ``task`` and ``id``.

    A map-style dataset (rather than the mixture's streaming one) gives TRL a length (epochs,
    schedulers), parallel tokenization and packing over the whole set. It is written once to
    ``cache_dir`` and reused while the spec, the task files and the mixture code are unchanged.
    """
    import datasets

    from medsins_datasets._files import default_cache_dir

    # the prompt_completion rows of the mixture's schema (messages rows are split by _sft_rows)
    features = row_features("prompt_completion", plain=plan.spec.plain)
    cache = Path(cache_dir) if cache_dir else default_cache_dir() / "mixture"
    ds = datasets.Dataset.from_generator(
        _sft_rows, features=features, gen_kwargs={"plan": plan},
        cache_dir=str(cache / "sft"), fingerprint=_plan_fingerprint(plan),
    )
    if len(ds) == 0:
        raise MedsinsError(f"the mixture yields no rows (filters: {plan.spec.describe_filters()})")
    return ds


def _prompt_lengths(batch: dict, tokenizer) -> dict:
    prompts = batch["prompt"]
    if prompts and isinstance(prompts[0], list):  # chat turns, as TRL renders them
        out = tokenizer.apply_chat_template(prompts, add_generation_prompt=True, tokenize=True)
        ids = out["input_ids"] if isinstance(out, dict) or hasattr(out, "keys") else out
    else:
        ids = tokenizer(prompts)["input_ids"]
    return {"_prompt_tokens": [len(x) for x in ids]}


@dataclass
class PromptLengthReport:
    too_long: int
    per_task: dict[str, int]
    longest: tuple[str, str, int] | None  # task, id, tokens


def check_prompt_lengths(dataset, tokenizer, max_length: int | None, *, policy: str = "error",
                         num_proc: int | None = None):
    """Rows whose prompt has ``max_length`` tokens or more keep no completion token after
    truncation, so they would train on nothing. ``policy='error'`` raises a :class:`MedsinsError`
    naming them; ``'drop'`` removes them. Returns ``(dataset, report)``."""
    if max_length is None:
        return dataset, PromptLengthReport(0, {}, None)
    if policy not in ("error", "drop"):
        raise MedsinsError(f"long_prompts must be 'error' or 'drop', got {policy!r}")
    if max_length < 2:
        raise MedsinsError(f"max_length={max_length} leaves no room for a prompt and its completion")
    lengths = dataset.map(_prompt_lengths, batched=True, batch_size=512, fn_kwargs={"tokenizer": tokenizer},
                          remove_columns=dataset.column_names, num_proc=num_proc,
                          desc="Checking prompt lengths")["_prompt_tokens"]
    bad = [i for i, n in enumerate(lengths) if n >= max_length]
    if not bad:
        return dataset, PromptLengthReport(0, {}, None)
    per_task: dict[str, int] = {}
    for i in bad:
        t = dataset[i]["task"]
        per_task[t] = per_task.get(t, 0) + 1
    worst = max(bad, key=lambda i: lengths[i])
    row = dataset[worst]
    report = PromptLengthReport(len(bad), per_task, (row["task"], row["id"], int(lengths[worst])))
    tasks = ", ".join(f"{t}: {n}" for t, n in sorted(per_task.items(), key=lambda kv: -kv[1]))
    msg = (f"{len(bad)} of {len(dataset)} training rows have a prompt of at least max_length={max_length} tokens, "
           f"so no completion token would be trained on ({tasks}; longest: task {row['task']}, id {row['id']}, "
           f"{lengths[worst]} prompt tokens)")
    if policy == "error":
        raise MedsinsError(msg + ". Raise max_length, shorten prompts (mixture max_prompt_chars drops few-shot "
                                 "cases from long prompts, or exclude_tasks), or set long_prompts: drop")
    logger.warning("%s: dropped (long_prompts=drop)", msg)
    keep = sorted(set(range(len(dataset))) - set(bad))
    return dataset.select(keep), report
