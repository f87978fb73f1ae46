"""Pieces of the SFT recipe (``recipes/sft.py``) that are worth testing on their own.

* :class:`SFTScriptArguments`: the recipe's own options (data source, mixture spec, ...), parsed
  by TRL's ``TrlParser`` next to ``SFTConfig`` and ``ModelConfig``;
* :func:`mixture_spec_from_arg`: the ``mixture`` option (YAML mapping / JSON / file) as a
  :class:`~medsins_datasets.mixture.MixtureSpec`;
* :func:`load_chat_template` / :func:`training_row_form`: whether training rows are chat turns
  (through the tokenizer's chat template) or plain text, decided as ``medsins bench`` decides how
  to prompt the same model, so that training and inference see the same prompt tokens;
* :func:`mixture_train_dataset`: a planned mixture as a map-style ``datasets.Dataset`` (cached on
  disk by a fingerprint of the spec and the task files), in TRL's prompt-completion format;
* :func:`check_prompt_lengths`: fail (or drop rows) before training when a prompt leaves no room
  for its completion under ``max_length``;
* :class:`PushGuard`: a callback that keeps every background Hub push of the Trainer and reports
  the failed ones at the end (transformers drops them silently);
* :func:`resolve_resume`: ``resume_from_checkpoint`` as a local folder, the last local checkpoint
  or the ``last-checkpoint/`` folder pushed to the Hub;
* :func:`model_card`: a model card recording the base model, the exact mixture, the
  hyper-parameters and the library versions.

Heavy libraries (torch, transformers, trl, datasets) are imported inside the functions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from medsins_datasets.errors import MedsinsError

logger = logging.getLogger(__name__)


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


def _load_mapping_file(path: str) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as e:
        raise MedsinsError(f"cannot read mixture file {path}: {e}") from None
    except yaml.YAMLError as e:
        raise MedsinsError(f"mixture file {path} is not valid YAML/JSON: {e}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MedsinsError(f"mixture file {path} must hold a mapping of MixtureSpec fields")
    return data


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
        return _load_mapping_file(s)
    raise MedsinsError(f"{what} must be a mapping, a JSON object or a file path, got {type(value).__name__}")


def mixture_spec_from_arg(value: Any, yaml_value: Any = None):
    """The ``mixture`` option as a ``MixtureSpec``.

    ``yaml_value`` is what the YAML config set (the parser default); ``value`` what was finally parsed.
    A JSON object given on the command line is merged key by key over the YAML mapping.
    """
    from medsins_datasets.mixture import MixtureSpec

    if isinstance(value, str) and value.strip().startswith("{") and yaml_value is not None and value is not yaml_value:
        merged = _as_mapping(yaml_value, "mixture (config file)")
        merged.update(_as_mapping(value, "--mixture"))
    else:
        merged = _as_mapping(value, "mixture")
    return MixtureSpec.from_dict(merged)


def json_option(value: Any, name: str) -> dict | None:
    """A dict option that may arrive as a mapping (YAML), a JSON object (command line) or a file path."""
    if value is None or isinstance(value, dict):
        return value
    return _as_mapping(value, name)


# --------------------------------------------------------------------------- rows as the runner prompts


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


def _plan_fingerprint(plan) -> str:
    from medsins_datasets import __version__, mixture, prompts
    from medsins_datasets._files import fingerprint_files

    code = fingerprint_files([Path(mixture.__file__), Path(prompts.__file__), Path(__file__)])
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


def sft_features(conversational: bool):
    import datasets

    s = datasets.Value("string")
    if conversational:
        turns = datasets.List({"role": s, "content": s})
        return datasets.Features({"prompt": turns, "completion": turns, "task": s, "id": s})
    return datasets.Features({"prompt": s, "completion": s, "task": s, "id": s})


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

    conversational = not plan.spec.plain
    cache = Path(cache_dir) if cache_dir else default_cache_dir() / "mixture"
    ds = datasets.Dataset.from_generator(
        _sft_rows, features=sft_features(conversational), gen_kwargs={"plan": plan},
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


# --------------------------------------------------------------------------- Hub pushes


class PushGuard:
    """Keeps every background push future of a Trainer and reports failures.

    transformers starts ``upload_folder(..., run_as_future=True)`` on each save and forgets the
    future once it is done, so an exception in it is never seen. :meth:`on_save` (called right
    after the save that started the push) records the futures; :meth:`on_train_end` waits for them
    and logs every failure loudly; :meth:`summary` describes them for the end of the script.
    """

    def __init__(self) -> None:
        self.trainer = None
        self.jobs: list[tuple[int, Any]] = []  # (global step, future)
        self._seen: set[int] = set()
        self.final_error: BaseException | None = None

    def __getattr__(self, name: str):
        # a TrainerCallback without importing transformers here: every other event is a no-op
        if name.startswith("on_"):
            return lambda *args, **kwargs: None
        raise AttributeError(name)

    def attach(self, trainer) -> "PushGuard":
        self.trainer = trainer
        return self

    def collect(self, step: int | None = None) -> None:
        push = getattr(self.trainer, "push_in_progress", None)
        for job in getattr(push, "jobs", None) or []:
            if id(job) not in self._seen:
                self._seen.add(id(job))
                self.jobs.append((step if step is not None else -1, job))

    def on_push_begin(self, args, state, control, **kwargs):
        self.collect(state.global_step)

    def on_save(self, args, state, control, **kwargs):
        self.collect(state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.collect(state.global_step)
        self.wait()
        for step, exc in self.failures():
            logger.error("!!! background push to the Hub at step %s FAILED: %s", step, exc)

    def wait(self) -> None:
        from concurrent import futures

        pending = [job for _, job in self.jobs if not job.done()]
        if pending:
            futures.wait(pending)

    def failures(self) -> list[tuple[int, BaseException]]:
        out = []
        for step, job in self.jobs:
            if job.done() and not job.cancelled() and job.exception() is not None:
                out.append((step, job.exception()))
        return out

    def summary(self) -> str | None:
        """None when every push went through, else one line describing the failures."""
        self.collect()
        self.wait()
        fails = self.failures()
        if not fails and self.final_error is None:
            return None
        parts = []
        if fails:
            steps = ", ".join(str(s) for s in sorted({s for s, _ in fails}))
            errors = list(dict.fromkeys(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                                        for _, e in fails))
            parts.append(f"{len(fails)} of {len(self.jobs)} background push(es) to the Hub failed (at step(s) "
                         f"{steps}): " + "; ".join(errors[:3]))
        if self.final_error is not None:
            first = str(self.final_error).splitlines()[0] if str(self.final_error) else ""
            parts.append(f"the final push failed: {type(self.final_error).__name__}: {first}")
        return ". ".join(parts) + ". The local output folder and checkpoints are intact; upload them again " \
                                  "(e.g. `hf upload <repo> <output_dir>`)."


# --------------------------------------------------------------------------- resuming


def _is_checkpoint(path: Path) -> bool:
    return path.is_dir() and (path / "trainer_state.json").is_file()


def resolve_resume(value: Any, output_dir: str, *, hub_model_id: str | None = None, hub_revision: str | None = None,
                   token: str | None = None) -> str | None:
    """Where to resume from.

    * ``None``/``false``: start fresh;
    * ``true``/``last``: the newest ``checkpoint-*`` in ``output_dir``, else the ``last-checkpoint/``
      pushed to ``hub_model_id``; an error if there is none;
    * ``auto``: the same, but start fresh when there is none;
    * ``hub`` / ``hf://ORG/NAME[@REV]``: the ``last-checkpoint/`` of that model repo (default
      ``hub_model_id``), downloaded under ``output_dir/_resume`` (not pushed: ``_*`` is ignored);
    * a folder: that checkpoint.
    """
    from transformers.trainer_utils import get_last_checkpoint

    if value is None or value is False:
        return None
    v = str(value).strip()
    low = v.lower()
    if low in ("", "false", "no", "none", "0"):
        return None
    out = Path(output_dir)
    if low in ("true", "last", "auto", "yes", "1"):
        last = get_last_checkpoint(str(out)) if out.is_dir() else None
        if last:
            return last
        if hub_model_id:
            try:
                return str(_download(hub_model_id, hub_revision, out, token))
            except MedsinsError:
                if low != "auto":
                    raise
        if low == "auto":
            logger.info("no checkpoint to resume from in %s: starting fresh", out)
            return None
        raise MedsinsError(f"no checkpoint to resume from: {out} has no checkpoint-* folder"
                           + ("" if hub_model_id else " (set hub_model_id to resume from the Hub)"))
    if low == "hub" or v.startswith("hf://"):
        repo, rev = hub_model_id, hub_revision
        if v.startswith("hf://"):
            repo, _, r = v[len("hf://"):].strip("/").partition("@")
            rev = r or hub_revision
        if not repo:
            raise MedsinsError("resume_from_checkpoint: hub needs hub_model_id (or use hf://ORG/NAME)")
        return str(_download(repo, rev, out, token))
    p = Path(v).expanduser()
    if not _is_checkpoint(p):
        raise MedsinsError(f"resume_from_checkpoint {v!r} is not a checkpoint folder (no trainer_state.json)")
    return str(p)


def _download(repo: str, revision: str | None, out: Path, token: str | None) -> Path:
    from medsins_datasets.models import download_last_checkpoint

    dest = out / "_resume" / repo.replace("/", "--")
    return download_last_checkpoint(repo, dest, revision=revision, token=token)


# --------------------------------------------------------------------------- model card


@dataclass
class RunInfo:
    """What the model card records about a run (filled before training)."""

    base_model: str
    dataset_source: str
    mixture_spec: dict
    tasks: list[dict]  # config, task_id, category, rows
    num_rows: int
    credentialed: bool = False
    dropped_long_prompts: int = 0
    peft: dict | None = None
    license: str | None = None
    extra_tags: list[str] = field(default_factory=list)


KEY_HYPERPARAMETERS = (
    "learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
    "max_length", "packing", "packing_strategy", "padding_free", "completion_only_loss", "assistant_only_loss",
    "lr_scheduler_type", "warmup_steps", "weight_decay", "optim", "max_grad_norm", "bf16", "fp16",
    "activation_checkpointing", "seed", "fsdp", "deepspeed",
)


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from medsins_datasets import __version__

    out = {"medsins": __version__}
    for pkg in ("transformers", "trl", "torch", "datasets", "accelerate", "peft", "huggingface_hub"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def hyperparameters(args) -> tuple[dict, dict]:
    """(key hyper-parameters incl. the global batch size, every argument that differs from its
    dataclass default). Tokens and other secrets are left out."""
    key = {k: getattr(args, k) for k in KEY_HYPERPARAMETERS if hasattr(args, k)}
    world = getattr(args, "world_size", 1) or 1
    key["world_size"] = world
    key["global_batch_size"] = args.per_device_train_batch_size * args.gradient_accumulation_steps * world
    changed = {}
    for f in dataclasses.fields(args):
        if "token" in f.name or f.name.startswith("_") or f.name in ("output_dir", "logging_dir"):
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = None
        value = getattr(args, f.name, None)
        if value != default:
            changed[f.name] = value
    return key, changed


def _jsonable(x: Any) -> Any:
    if isinstance(x, Enum):
        return x.value
    try:
        json.dumps(x)
        return x
    except TypeError:
        if isinstance(x, dict):
            return {str(k): _jsonable(v) for k, v in x.items()}
        if isinstance(x, (list, tuple, set)):
            return [_jsonable(v) for v in x]
        return str(getattr(x, "value", x))


def model_card(run: RunInfo, args, *, global_step: int = 0, epoch: float | None = None,
               train_loss: float | None = None, hub_model_id: str | None = None, finished: dict | None = None) -> str:
    """A model card (README.md with YAML metadata) for a run of the SFT recipe."""
    from huggingface_hub import ModelCard, ModelCardData

    key, changed = hyperparameters(args)
    versions = library_versions()
    base = run.base_model
    hub_base = base if base.count("/") == 1 and not base.startswith((".", "/", "~", "pkg:")) else None
    data = ModelCardData(
        base_model=hub_base, library_name="peft" if run.peft else "transformers", license=run.license,
        tags=["medsins", "medical", "sft", "trl", "generated_from_trainer", *run.extra_tags],
        pipeline_tag="text-generation",
    )
    name = hub_model_id or Path(args.output_dir).name
    cred = ("\n> **This model was trained on credentialed data** (PhysioNet / MIMIC-* / MedNLI). Share it only "
            "with people who hold the sources' data-use agreements; never make it public.\n" if run.credentialed else "")
    rows = "\n".join(f"| `{t['config']}` | {t['task_id']} | {t.get('category', '')} | {t['rows']:,} |" for t in run.tasks)
    hp_rows = "\n".join(f"| `{k}` | `{_jsonable(v)}` |" for k, v in key.items())
    progress = f"{global_step} optimizer steps" + (f", {epoch:.2f} epochs" if epoch is not None else "")
    if train_loss is not None:
        progress += f", last logged training loss {train_loss:.4f}"
    if finished:
        progress += f". Training finished: mean training loss {finished.get('train_loss', float('nan')):.4f}, " \
                    f"{finished.get('train_runtime', 0):.0f} s"
    dropped = (f"\n{run.dropped_long_prompts} rows whose prompt filled `max_length` were left out "
               "(`long_prompts: drop`).\n" if run.dropped_long_prompts else "")
    peft = (f"\nLoRA adapter (PEFT): `{json.dumps(_jsonable(run.peft), sort_keys=True)}`\n" if run.peft else "")
    content = f"""---
{data.to_yaml()}
---

# {name}

A medical instruction-tuned model: **{base}** fine-tuned on a MedS-Ins mixture with the
`medsins` SFT recipe (TRL `SFTTrainer`, loss on the completion tokens only, the MedS-Ins paper's
eq. 2). Training progress: {progress}.
{cred}
## Base model

`{base}`
{peft}
## Training data

MedS-Ins tasks from `{run.dataset_source}`, {run.num_rows:,} rows in the mixture (rows per task as the
mixture yields them, after deduplication, caps and temperature).{dropped}

| task config | official id | category | rows |
|---|---|---|---|
{rows}

Mixture spec (`medsins_datasets.mixture.MixtureSpec`; the same spec and data give the same mixture):

```json
{json.dumps(_jsonable(run.mixture_spec), indent=1, sort_keys=True)}
```

## Hyper-parameters

| argument | value |
|---|---|
{hp_rows}

<details><summary>Every training argument that differs from its default</summary>

```json
{json.dumps(_jsonable(changed), indent=1, sort_keys=True)}
```

</details>

## Libraries

{", ".join(f"{k} {v}" for k, v in versions.items())}
"""
    return str(ModelCard(content))


def make_trainer_class():
    """``SFTTrainer`` whose model card is :func:`model_card` (written on every checkpoint save and
    on ``push_to_hub``) once ``trainer.medsins_run`` is set."""
    from trl import SFTTrainer

    class MedsinsSFTTrainer(SFTTrainer):
        medsins_run: RunInfo | None = None

        def create_model_card(self, model_name=None, dataset_name=None, tags=None, **kwargs):
            if self.medsins_run is None:
                return super().create_model_card(model_name=model_name, dataset_name=dataset_name, tags=tags)
            if not self.is_world_process_zero():
                return None
            losses = [h["loss"] for h in self.state.log_history if "loss" in h]
            done = [h for h in self.state.log_history if "train_runtime" in h]
            card = model_card(self.medsins_run, self.args, global_step=self.state.global_step, epoch=self.state.epoch,
                              train_loss=losses[-1] if losses else None, hub_model_id=self.args.hub_model_id,
                              finished=done[-1] if done else None)
            os.makedirs(self.args.output_dir, exist_ok=True)
            Path(self.args.output_dir, "README.md").write_text(card, encoding="utf-8")
            return None

    return MedsinsSFTTrainer
