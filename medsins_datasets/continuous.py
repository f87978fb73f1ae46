"""Greedy generation with continuous batching for a transformers causal LM.

``model.generate`` on a padded batch runs every row until the longest one is done, and a batch
only starts when the previous one has ended. Benchmark answers vary from one token to the whole
budget, so most of those steps are wasted. Here a pool of at most ``pool_size`` sequences is
decoded one token per step; a sequence leaves the pool as soon as it ends (EOS or its own
budget) and the next prompt is prefilled and joins at once.

Every row is a left-padded slice of one key/value cache (the layout of padded batch
generation): a joining row is prefilled alone (no padding), then the shorter of (pool cache,
new row) is left-padded with masked zero columns; the attention mask hides the padding and the
position ids count only real tokens, so each row computes what it would compute alone.
Columns that are padding in every remaining row are dropped when rows leave.

Only plain greedy decoding is done here (argmax, no logits processors): :func:`supports` says
whether a model's generation config asks for nothing more, otherwise callers use
``model.generate``.
"""

from __future__ import annotations

import inspect
from collections import deque
from typing import Any, Iterator, Sequence

#: generation-config fields that would change greedy decoding if set (processors, constraints)
_PROCESSOR_FIELDS = {
    "repetition_penalty": (None, 1.0), "no_repeat_ngram_size": (None, 0), "encoder_repetition_penalty": (None, 1.0),
    "bad_words_ids": (None,), "suppress_tokens": (None,), "begin_suppress_tokens": (None,),
    "forced_bos_token_id": (None,), "forced_eos_token_id": (None,), "min_length": (None, 0),
    "min_new_tokens": (None, 0), "sequence_bias": (None,), "exponential_decay_length_penalty": (None,),
    "renormalize_logits": (None, False), "num_beams": (None, 1),
}


def supports(model: Any) -> bool:
    """True when plain argmax decoding reproduces ``model.generate(do_sample=False)`` for ``model``
    (no logits processors configured) and its forward takes a key/value cache and position ids."""
    cfg = getattr(model, "generation_config", None)
    for name, plain in _PROCESSOR_FIELDS.items():
        if cfg is not None and getattr(cfg, name, None) not in plain:
            return False
    params = inspect.signature(model.forward).parameters
    return "position_ids" in params and ("cache" in params or "past_key_values" in params)


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
    """Yield ``(index, new token ids)`` for every prompt (token id lists) as soon as it is done.

    ``budgets[i]`` is prompt ``i``'s max new tokens. The ids include the stop token when one
    ended the sequence.
    """
    import torch
    from transformers import DynamicCache

    params = inspect.signature(model.forward).parameters
    cache_kw = "cache" if "cache" in params else "past_key_values"
    keep_last = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
    queue = deque(range(len(prompts)))
    rows: list[int] = []  # prompt index of each pool row
    gen: list[list[int]] = []  # tokens generated so far, per row
    kv: list[tuple[Any, Any]] | None = None  # per layer (keys, values), [rows, heads, columns, dim]
    mask = None  # [rows, columns], 0 on padding

    def done(i: int, toks: list[int]) -> bool:
        return toks[-1] in stop_ids or len(toks) >= budgets[i]

    def left_pad(x, n: int):
        return x if n == 0 else torch.cat([x.new_zeros(*x.shape[:2], n, x.shape[3]), x], dim=2)

    with torch.no_grad():
        while queue or rows:
            while queue and len(rows) < pool_size:  # fill the pool
                i = queue.popleft()
                cache = DynamicCache()
                out = model(input_ids=torch.tensor([list(prompts[i])], device=device), use_cache=True,
                            **{cache_kw: cache}, **keep_last)
                first = [int(out.logits[0, -1].argmax())]
                if done(i, first):
                    yield i, first
                    continue
                new = [(layer.keys, layer.values) for layer in cache.layers]
                n = new[0][0].shape[2]
                new_mask = torch.ones(1, n, dtype=torch.long, device=device)
                if kv is None:
                    kv, mask = new, new_mask
                else:
                    width = max(mask.shape[1], n)
                    a, b = width - mask.shape[1], width - n
                    kv = [(torch.cat([left_pad(k, a), left_pad(nk, b)]), torch.cat([left_pad(v, a), left_pad(nv, b)]))
                          for (k, v), (nk, nv) in zip(kv, new)]
                    pad = torch.zeros
                    mask = torch.cat([torch.cat([pad(mask.shape[0], a, dtype=mask.dtype, device=device), mask], 1),
                                      torch.cat([pad(1, b, dtype=mask.dtype, device=device), new_mask], 1)])
                rows.append(i)
                gen.append(first)
            if not rows:
                break
            mask = torch.cat([mask, torch.ones(len(rows), 1, dtype=mask.dtype, device=device)], 1)
            cache = DynamicCache(ddp_cache_data=kv)
            out = model(input_ids=torch.tensor([[g[-1]] for g in gen], device=device), attention_mask=mask,
                        position_ids=mask.sum(1, keepdim=True) - 1, use_cache=True, **{cache_kw: cache})
            kv = [(layer.keys, layer.values) for layer in cache.layers]
            keep = []
            for r, tok in enumerate(out.logits[:, -1].argmax(-1).tolist()):
                gen[r].append(tok)
                if done(rows[r], gen[r]):
                    yield rows[r], gen[r]
                else:
                    keep.append(r)
            if len(keep) == len(rows):
                continue
            rows, gen = [rows[r] for r in keep], [gen[r] for r in keep]
            if not keep:
                kv = mask = None
                continue
            idx = torch.tensor(keep, device=device)
            mask = mask.index_select(0, idx)
            kv = [(k.index_select(0, idx), v.index_select(0, idx)) for k, v in kv]
            lead = int((mask.cumsum(1) == 0).sum(1).min())  # columns that are padding in every row
            if lead:
                mask = mask[:, lead:]
                kv = [(k[:, :, lead:], v[:, :, lead:]) for k, v in kv]
