"""Multi-task training mixtures as streaming ``datasets.IterableDataset`` objects.

A :class:`MixtureSpec` selects tasks (by name, category, domain, language, access), caps each
task, weights tasks by temperature (FLAN/T5 style: task *i* gets a share proportional to
``min(n_i, cap) ** (1 / T)``), removes duplicate (definition, input, output) examples, renders
prompts (zero- or few-shot, original or rewritten definitions) and shuffles, all from a seed.

Rows are rendered in the **official MedS-Bench layout** by default (``layout="official"``), the
layout ``medsins bench`` prompts with, so a model trained on a mixture sees what it is evaluated
with: a system message (the shots, then the definition and the few-shot sentence) and a user
message (the input), see :func:`medsins_datasets.prompts.render_messages`. Rows are chat turns for
a model's chat template, or (``plain=True``) the official plain text for a model without one; a
plain prompt always ends on a newline, so that the completion starts a new token (see
:func:`render_training_row`). ``layout="paper"`` keeps the paper's prose template.

How it stays flat in memory at MedS-Ins scale (millions of rows):

1. **Planning** reads each task file once, streaming, into a per-file Arrow IPC cache (record
   batches of :data:`~medsins_datasets.mixture.spill.SPILL_BATCH` rows; reused while the task
   file is unchanged) holding id, input, output and an 8-byte blake2b digest of (definition,
   input, output). Only the digests (8 bytes per row) are gathered to deduplicate, and a per-row
   multiplicity array (4 bytes per row) records how often each row appears (0 = dropped by dedup,
   cap or down-sampling; >1 = up-sampled by the temperature).
2. **Iterating** interleaves the tasks: task labels are drawn block-wise from a multivariate
   hypergeometric distribution over the remaining per-task quotas (an exactly uniform
   interleaving), and each task streams its rows batch by batch, batches in a seeded random order
   and rows shuffled within a batch. Only the current batch of each task is in memory.

Everything random comes from ``numpy``/``random`` generators seeded by stable (blake2b) hashes of
the seed, so the same spec and data give byte-identical mixtures in any process.

The package's modules, one stage each: :mod:`~medsins_datasets.mixture.spec` (what goes in:
:class:`MixtureSpec`, built from a mapping or a file), :mod:`~medsins_datasets.mixture.rows` (one
row: rendering and the SFT rows' schema), :mod:`~medsins_datasets.mixture.spill` (the per-file
Arrow cache and its reader), :mod:`~medsins_datasets.mixture.plan` (planning and iteration),
:mod:`~medsins_datasets.mixture.build` (the entry points, with the contamination exclusion) and
:mod:`~medsins_datasets.mixture.write` (the dataset folder and its card).
"""

#: public name -> the module defining it; loaded on first use, so that importing one module of
#: the package (``mixture.spec`` for a recipe's arguments) does not import numpy, pyarrow and the
#: contamination scanner
_LAZY = {
    "build_mixture": "build",
    "exclude_contaminated": "build",
    "mixture_counts": "build",
    "plan_mixture": "build",
    "INTERLEAVE_BLOCK": "plan",
    "MixturePlan": "plan",
    "TaskPlan": "plan",
    "plan_tasks": "plan",
    "PLAIN_SEPARATOR": "rows",
    "MixtureExample": "rows",
    "fit_shots": "rows",
    "render_training_row": "rows",
    "row_features": "rows",
    "FORMATS": "spec",
    "LAYOUTS": "spec",
    "MixtureSpec": "spec",
    "read_spec_file": "spec",
    "SPILL_BATCH": "spill",
    "FileSpill": "spill",
    "read_batch": "spill",
    "read_digests": "spill",
    "spill_file": "spill",
    "MIX_MANIFEST": "write",
    "MIX_SHARD_ROWS": "write",
    "write_mixture": "write",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
