"""Greedy generation with continuous batching for a transformers causal LM.

``model.generate`` on a padded batch runs every row until the longest one is done, and a batch
only starts when the previous one has ended. Benchmark answers vary from one token to the whole
budget, so most of those steps are wasted. Here a pool of at most ``pool_size`` rows is decoded
one token per step; a row is free as soon as its sequence ends (stop token or its own budget),
and the next prompt is prefilled and takes its place before the next step.

Every row is a slice of one key/value cache, right-aligned (the layout of left-padded batch
generation): a joining prompt is prefilled alone and unpadded (exactly as ``model.generate``
prefills it), and its keys/values are written into a free row, ending at the current last
column; the attention mask hides every column on its left and the position ids count only its
own tokens, so each row computes what it would compute alone. Rows are overwritten in place, so
a prompt joining or leaving copies nothing else; the cache is compacted (rows that no prompt
will take any more, leading columns masked in every row) only while the pool drains or when the
masked leading columns grow large. The cache layers keep spare columns, so a decoding step writes
its keys/values in place. The transformers classes this relies on are isolated in
:mod:`medsins_datasets.runner.transformers_compat`.

This was measured against padded batches, against transformers' own continuous batching manager
and against reusing the keys/values of prefixes shared between prompts, on the official prompt
layout: see ``benchmarks/generation_speed.py`` and docs/bench.md. (Prefix reuse was dropped: under
the official protocol the shots differ from prompt to prompt, so only the chat header is shared,
about 1% of the prompt tokens.)

Only plain greedy decoding is done here (argmax, no logits processors): :func:`supports` says
whether a model's generation config asks for nothing more, otherwise callers use
``model.generate``.
"""

from __future__ import annotations

import inspect
import logging
from collections import deque
from typing import Any, Iterator, Sequence

from medsins_datasets.runner import transformers_compat as compat

logger = logging.getLogger(__name__)

#: generation-config fields that would change greedy decoding if set (processors, constraints)
_PROCESSOR_FIELDS = {
    "repetition_penalty": (None, 1.0), "no_repeat_ngram_size": (None, 0), "encoder_repetition_penalty": (None, 1.0),
    "bad_words_ids": (None,), "suppress_tokens": (None,), "begin_suppress_tokens": (None,),
    "forced_bos_token_id": (None,), "forced_eos_token_id": (None,), "min_length": (None, 0),
    "min_new_tokens": (None, 0), "sequence_bias": (None,), "exponential_decay_length_penalty": (None,),
    "renormalize_logits": (None, False), "num_beams": (None, 1),
}

#: leading columns masked in every row that are tolerated before the cache is compacted while
#: prompts are still waiting (they cost attention work at every step; compacting copies the cache)
MAX_DEAD_COLUMNS = 256

_warned: set[str] = set()


def supports(model: Any) -> bool:
    """True when this module reproduces ``model.generate(do_sample=False)`` for ``model``: plain
    argmax decoding (no logits processors configured), a decoder-only model with full attention
    in every layer whose forward takes a key/value cache and position ids, and an installed
    transformers release this module was tested with (otherwise a warning says why, once)."""
    cfg = getattr(model, "generation_config", None)
    for name, plain in _PROCESSOR_FIELDS.items():
        if cfg is not None and getattr(cfg, name, None) not in plain:
            return False
    if "position_ids" not in inspect.signature(model.forward).parameters or not compat.cache_argument(model):
        return False
    if not compat.full_attention_only(model):
        return False
    why = compat.problem()
    if why:
        if why not in _warned:
            _warned.add(why)
            logger.warning("continuous batching is off, generation uses padded batches: %s", why)
        return False
    return True


def eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for v in (getattr(getattr(model, "generation_config", None), "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(v, int):
            ids.add(v)
        elif v:
            ids.update(int(x) for x in v)
    return ids


def greedy_stream(model: Any, prompts: Sequence[Sequence[int]], budgets: Sequence[int], *, pool_size: int,
                  stop_ids: set[int], device: Any = "cpu") -> Iterator[tuple[int, list[int]]]:
    """Yield ``(index, new token ids)`` for every prompt (token id lists) as soon as it is done,
    taking prompts in the given order.

    ``budgets[i]`` is prompt ``i``'s max new tokens. The ids include the stop token when one
    ended the sequence.
    """
    import torch

    cache_kw = compat.cache_argument(model)
    pool_size = max(1, int(pool_size))
    queue = deque(range(len(prompts)))
    layers: list[Any] = []  # the pool's cache layers (pool_layer_class)
    cache = None
    slots: list[int | None] = []  # prompt index of each row; None: free
    gen: list[list[int]] = []  # tokens generated so far, per row
    mask = None  # [rows, columns], 0 on padding and on a row's stale columns; column 0 always 0

    def done(i: int, toks: list[int]) -> bool:
        return toks[-1] in stop_ids or len(toks) >= budgets[i]

    with torch.no_grad():
        while queue or any(s is not None for s in slots):
            while queue and (None in slots or len(slots) < pool_size):  # fill the pool
                i = queue.popleft()
                first, kv = compat.prefill(model, prompts[i], device)
                if done(i, [first]):
                    yield i, [first]
                    continue
                n = kv[0][0].shape[2]
                if cache is None:
                    cls = compat.pool_layer_class()
                    width = n + 1  # + the padding column that keeps the mask (see transformers_compat)
                    layers = []
                    for k, v in kv:
                        shape = (pool_size, k.shape[1], width + compat.SPARE_COLUMNS, k.shape[3])
                        layers.append(cls(k.new_zeros(shape), v.new_zeros(shape), length=width, rows=0))
                    cache = compat.pool_cache(layers)
                    mask = torch.zeros(0, width, dtype=torch.long, device=device)
                width = mask.shape[1]
                if n + 1 > width:  # a longer prompt: every row moves right
                    for layer in layers:
                        layer.widen(n + 1 - width)
                    mask = torch.cat([mask.new_zeros(mask.shape[0], n + 1 - width), mask], 1)
                    width = n + 1
                if None in slots:
                    r = slots.index(None)
                else:
                    for layer in layers:
                        layer.add_rows(1)
                    mask = torch.cat([mask, mask.new_zeros(1, width)])
                    slots.append(None)
                    gen.append([])
                    r = len(slots) - 1
                for layer, (k, v) in zip(layers, kv):
                    layer.write_row(r, k, v)
                mask[r] = 0
                mask[r, width - n:] = 1
                slots[r], gen[r] = i, [first]
            if not any(s is not None for s in slots):
                continue
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], 1)
            # a free row (only while prompts wait to be prefilled) repeats its last token: its
            # output is ignored and its cache row is overwritten when a prompt takes it
            out = model(input_ids=torch.tensor([[g[-1]] for g in gen], device=device), attention_mask=mask,
                        position_ids=mask.sum(1, keepdim=True) - 1, use_cache=True, **{cache_kw: cache})
            for r, tok in enumerate(out.logits[:, -1].argmax(-1).tolist()):
                i = slots[r]
                if i is None:
                    continue
                gen[r].append(tok)
                if done(i, gen[r]):
                    yield i, gen[r]
                    slots[r] = None
            mask = _compact(layers, mask, slots, gen, draining=not queue, device=device)


def _compact(layers: list[Any], mask: Any, slots: list[int | None], gen: list[list[int]], *, draining: bool,
             device: Any) -> Any:
    """Drop free rows once no prompt waits for them, and leading columns masked in every row
    (keeping one) when the pool drains or when there are more than :data:`MAX_DEAD_COLUMNS`; the
    mask after that."""
    import torch

    keep = [r for r, s in enumerate(slots) if s is not None]
    if not keep:
        return mask
    drop_rows = draining and len(keep) < len(slots)
    # (a free row that a waiting prompt will take keeps its stale columns: no row is ever all masked)
    live = mask[keep] if drop_rows else mask
    lead = int((live.cumsum(1) == 0).sum(1).min()) - 1  # masked in every row, beyond column 0
    if not drop_rows and lead <= (0 if draining else MAX_DEAD_COLUMNS):
        return mask
    idx = torch.tensor(keep, device=device) if drop_rows else None
    for layer in layers:
        layer.compact(lead, idx)
    if drop_rows:
        slots[:] = [slots[r] for r in keep]
        gen[:] = [gen[r] for r in keep]
        mask = live
    return mask[:, lead:]
