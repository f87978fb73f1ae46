"""The model card of an SFT run (``templates/sft_model_card.md``): the base model, the exact
mixture, the hyper-parameters and the library versions; and :func:`make_trainer_class`, the
``SFTTrainer`` that writes it on every checkpoint save and on ``push_to_hub``."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


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

    from medsins_datasets.cards import render_template

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
    body = render_template(
        "sft_model_card.md",
        model_name=name,
        base_model=base,
        progress=progress,
        credentialed_note=cred,
        peft_note=peft,
        dataset_source=run.dataset_source,
        num_rows=f"{run.num_rows:,}",
        dropped_note=dropped,
        task_rows=rows,
        mixture_spec_json=json.dumps(_jsonable(run.mixture_spec), indent=1, sort_keys=True),
        hyperparameter_rows=hp_rows,
        changed_arguments_json=json.dumps(_jsonable(changed), indent=1, sort_keys=True),
        library_versions=", ".join(f"{k} {v}" for k, v in versions.items()),
    )
    content = f"---\n{data.to_yaml()}\n---\n\n{body}"
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
