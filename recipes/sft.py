"""Supervised fine-tuning on a MedS-Ins mixture with TRL's SFTTrainer.

    accelerate launch --config_file recipes/accelerate_configs/fsdp.yaml recipes/sft.py \\
        --config recipes/llama3/sft/config_full.yaml [--any_option value ...]

Options come from three dataclasses parsed by TRL's ``TrlParser``: the recipe's own
(:class:`medsins_datasets.training.SFTScriptArguments`: ``dataset_source``, ``mixture``, ...),
``trl.SFTConfig`` (every transformers/TRL training option) and ``trl.ModelConfig`` (model, dtype,
attention, LoRA/QLoRA). The YAML given with ``--config`` sets them; the command line overrides the
YAML (``--mixture '{"max_per_task": 10}'`` is merged into the YAML's mixture mapping).

The training set is the mixture rendered as prompt/completion rows, so the loss covers the
completion tokens only (the paper's eq. 2). Prompts are in the official MedS-Bench layout (the
mixture's ``layout``), rendered the way ``medsins bench`` prompts the trained model: through the
tokenizer's chat template when it has one (``chat_template_path`` sets one), as the official plain
text otherwise (``use_chat_template`` overrides the choice). Bad input (unknown tasks, an empty
mixture, prompts longer than ``max_length``, a missing model) stops the script before training with
``error: ...`` and exit status 2; failed background pushes to the Hub are reported at the end
(exit status 3 unless ``allow_push_failures``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from medsins_datasets.errors import MedsinsError

logger = logging.getLogger("medsins.sft")


def make_parser():
    from trl import ModelConfig, SFTConfig, TrlParser

    from medsins_datasets.training import SFTScriptArguments

    return TrlParser((SFTScriptArguments, SFTConfig, ModelConfig))


def train(parser, script_args, training_args, model_args) -> int:
    import transformers
    from trl import get_peft_config, get_quantization_config

    from medsins_datasets import models as hm
    from medsins_datasets import training as tr
    from medsins_datasets.errors import CredentialedDataError
    from medsins_datasets.mixture import plan_mixture

    # 1. cheap checks first: the mixture spec, the model, the checkpoint to resume from
    spec = tr.mixture_spec_from_arg(script_args.mixture, parser.get_default("mixture"))
    if script_args.dataset_source is None:
        raise MedsinsError("no dataset_source: set it in the YAML or pass --dataset_source")
    tiny_cfg = tr.json_option(script_args.tiny_model_config, "tiny_model_config")
    hm.tiny_config(tiny_cfg)  # validates the keys
    ref = hm.resolve_model_ref(model_args.model_name_or_path, revision=model_args.model_revision,
                               token=training_args.hub_token)
    if training_args.packing and training_args.max_length is None:
        raise MedsinsError("packing needs max_length (the length of the packed sequences)")
    if training_args.padding_free and not training_args.packing and training_args.max_length is not None:
        raise MedsinsError("padding_free without packing does not truncate: pass --max_length null "
                           "(or use packing, which is padding-free too)")
    with training_args.main_process_first(local=True, desc="finding the checkpoint to resume from"):
        checkpoint = tr.resolve_resume(training_args.resume_from_checkpoint, training_args.output_dir,
                                       hub_model_id=training_args.hub_model_id,
                                       hub_revision=training_args.hub_revision, token=training_args.hub_token)

    # 2. the mixture (task files are read and cached here; format errors surface here)
    with training_args.main_process_first(desc="planning the MedS-Ins mixture"):
        plan = plan_mixture(spec, script_args.dataset_source, cache_dir=script_args.mixture_cache_dir)
        if training_args.push_to_hub and plan.credentialed and not training_args.hub_private_repo:
            raise CredentialedDataError(
                "the mixture holds credentialed data (" + ", ".join(
                    tp.task.config_name for tp in plan.tasks
                    if tp.task.is_credentialed or any(f.credentialed for f in tp.files)) +
                "): a model trained on it may only be pushed to a private repo (hub_private_repo: true)")

    # 3. the tokenizer decides how rows are rendered: through its chat template when it has one
    #    (after chat_template_path), else as the official plain text; `medsins bench` prompts the
    #    trained model by the same rule, so training and inference see the same prompt tokens
    transformers.set_seed(training_args.seed)
    corpus = None
    if ref.kind == "tiny":
        corpus = tr.tiny_corpus(plan, int(hm.tiny_config(tiny_cfg)["corpus_rows"]))
    tokenizer = hm.load_tokenizer(ref, revision=model_args.model_revision,
                                  trust_remote_code=training_args.trust_remote_code, corpus=corpus, tiny=tiny_cfg,
                                  checkpoint=checkpoint)
    dataset, long_report = tr.prepare_training_set(plan, tokenizer, script_args, training_args)
    logger.info("mixture: %d rows from %d task(s): %s", len(dataset), len(plan.counts),
                ", ".join(f"{k}={v}" for k, v in plan.counts.items()))
    dataset = dataset.remove_columns(["task", "id"])

    # 4. the model: built (tiny), dequantized (GGUF) or left to TRL to load (folders, Hub ids)
    quantization_config = get_quantization_config(model_args)
    if ref.kind == "tiny":
        model = hm.build_tiny_model(tokenizer, tiny_cfg, seed=training_args.seed)
    elif ref.kind == "gguf":
        model = hm.load_gguf_model(ref, dtype=model_args.dtype, attn_implementation=model_args.attn_implementation)
    else:
        model = ref.path
        init = dict(revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code,
                    attn_implementation=model_args.attn_implementation, dtype=model_args.dtype)
        init.update(tr.json_option(training_args.model_init_kwargs, "model_init_kwargs") or {})
        training_args.model_init_kwargs = init
    peft_config = get_peft_config(model_args)

    # 5. train
    guard = tr.PushGuard()
    trainer = tr.make_trainer_class()(
        model=model, args=training_args, train_dataset=dataset, processing_class=tokenizer,
        peft_config=peft_config, quantization_config=quantization_config if isinstance(model, str) else None,
        callbacks=[guard],
    )
    guard.attach(trainer)
    trainer.medsins_run = tr.RunInfo(
        base_model=ref.display, dataset_source=str(script_args.dataset_source), mixture_spec=plan.spec.to_dict(),
        tasks=[{"config": tp.task.config_name, "task_id": tp.task.task_id, "category": tp.task.category,
                "rows": tp.quota} for tp in plan.tasks if tp.quota],
        num_rows=len(dataset), credentialed=plan.credentialed, dropped_long_prompts=long_report.too_long,
        peft=peft_config.to_dict() if peft_config is not None else None, license=script_args.model_license,
    )
    if checkpoint:
        logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    if training_args.push_to_hub:
        # push_to_hub saves the model (and the final model card) first, then uploads and waits
        try:
            trainer.push_to_hub(commit_message="End of training")
            trainer.accelerator.print(f"Model saved to {training_args.output_dir} and pushed to {trainer.hub_model_id}")
        except Exception as e:  # reported together with the background pushes below
            guard.final_error = e
            out = Path(training_args.output_dir)
            if not (out / "config.json").is_file() and not (out / "adapter_config.json").is_file():
                trainer.save_model(training_args.output_dir, _internal_call=True)  # saved, not pushed again
                trainer.create_model_card()
    else:
        trainer.save_model(training_args.output_dir)
        trainer.create_model_card()  # the card goes with the saved model (push_to_hub writes it itself)
        trainer.accelerator.print(f"Model saved to {training_args.output_dir}")
    if hasattr(trainer, "end"):
        trainer.end()

    # 6. failed pushes must not go unnoticed
    problem = guard.summary() if trainer.is_world_process_zero() else None
    if problem:
        if script_args.allow_push_failures:
            logger.warning("!!! %s", problem)
            print(f"WARNING: {problem}", file=sys.stderr)
            return 0
        print(f"error: {problem}", file=sys.stderr)
        return 3
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    try:
        parser = make_parser()
    except ImportError as e:
        from medsins_datasets.cli import missing_extra_message

        msg = missing_extra_message(e)
        if msg is None:
            raise
        print(f"error: {msg}", file=sys.stderr)
        return 2
    try:
        script_args, training_args, model_args = parser.parse_args_and_config(argv)
    except ValueError as e:  # a YAML key no dataclass knows, a value TRL/transformers reject...
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # --config names a missing or unreadable file
        print(f"error: cannot read the config {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - yaml.YAMLError: a malformed --config file
        if type(e).__module__.split(".")[0] != "yaml":
            raise
        print(f"error: the config is not valid YAML: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    try:
        return train(parser, script_args, training_args, model_args)
    except MedsinsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
