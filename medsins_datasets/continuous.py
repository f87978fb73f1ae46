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
Columns that are padding in every remaining row are dropped when rows leave. The pool's cache
layers keep spare columns (:class:`PoolLayer`), so a decoding step writes its new keys/values in
place; transformers' ``DynamicLayer`` concatenates, copying the whole cache at every step, which
costs a third of a step on a CPU at a pool of 16.

Prefix reuse: prompts of one run often begin alike (the chat template's system prompt, a task's
first shots). Before decoding starts, each prompt is matched with the earlier prompt sharing its
longest token prefix (:func:`plan_prefix_reuse`); when that prefix is long enough, the joining
row is prefilled from a copy of the earlier prompt's keys/values for it, and only its remaining
tokens go through the model. Causal attention makes those keys/values the same whatever follows
them. Only the prefixes that a later prompt needs are kept, and each is dropped once its last
user has joined.

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


#: shortest shared prefix (tokens) worth reusing instead of recomputing
MIN_REUSED_PREFIX = 8
#: spare columns a pool cache layer is allocated with (and grows by, at least)
SPARE_COLUMNS = 64


def _pool_layer_class():
    from transformers import DynamicLayer

    class PoolLayer(DynamicLayer):
        """A full-attention cache layer over a buffer with spare columns: ``update`` writes the new
        keys/values in place and returns views, growing the buffer (one copy) only when it is full."""

        def __init__(self, keys, values, length: int):
            super().__init__()
            self._k, self._v, self._n = keys, values, length
            self.device = keys.device
            self.is_initialized = True
            self._expose()

        def _expose(self) -> None:
            self.keys, self.values = self._k[:, :, :self._n], self._v[:, :, :self._n]

        def update(self, key_states, value_states, *args, **kwargs):
            m = key_states.shape[-2]
            if self._n + m > self._k.shape[2]:
                grow = self._n + m + max(SPARE_COLUMNS, self._n // 2)
                k, v = (x.new_zeros(*x.shape[:2], grow, x.shape[3]) for x in (self._k, self._v))
                k[:, :, :self._n], v[:, :, :self._n] = self.keys, self.values
                self._k, self._v = k, v
            self._k[:, :, self._n:self._n + m] = key_states
            self._v[:, :, self._n:self._n + m] = value_states
            self._n += m
            self._expose()
            return self.keys, self.values

    return PoolLayer


def _left_padded(blocks: Sequence[Any], width: int) -> Any:
    """Row blocks ``[rows_i, heads, n_i, dim]`` stacked into one zero buffer of ``width`` +
    spare columns, each block right-aligned at ``width`` (zeros on the left, masked out)."""
    first = blocks[0]
    out = first.new_zeros(sum(b.shape[0] for b in blocks), first.shape[1], width + SPARE_COLUMNS, first.shape[3])
    r = 0
    for b in blocks:
        out[r:r + b.shape[0], :, width - b.shape[2]:width] = b
        r += b.shape[0]
    return out


def _pool_cache(parts: Sequence[Sequence[tuple[Any, Any]]], width: int) -> Any:
    """One cache for the pool from row blocks (each a per-layer list of (keys, values))."""
    from transformers import Cache

    layer = _pool_layer_class()
    return Cache(layers=[layer(_left_padded([p[i][0] for p in parts], width),
                               _left_padded([p[i][1] for p in parts], width), width)
                         for i in range(len(parts[0]))])


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def plan_prefix_reuse(prompts: Sequence[Sequence[int]], min_len: int = MIN_REUSED_PREFIX
                      ) -> list[tuple[int, int] | None]:
    """For each prompt, ``(donor, length)``: the earlier prompt sharing its longest token prefix and
    that prefix's length (at most ``len - 1``: the last token must go through the model to give the
    first logits), or None when no earlier prompt shares ``min_len`` tokens.

    Earlier prompts are kept sorted, so the best donor is a neighbour of the insertion point
    (the longest common prefix with a sorted set is always found next to where a key would go).
    """
    import bisect

    seen: list[tuple[tuple[int, ...], int]] = []
    plan: list[tuple[int, int] | None] = []
    for i, p in enumerate(prompts):
        key = tuple(p)
        at = bisect.bisect_left(seen, (key, -1))
        best = max(((_common_prefix(key, seen[j][0]), seen[j][1]) for j in (at - 1, at) if 0 <= j < len(seen)),
                   default=(0, -1))
        n = min(best[0], len(key) - 1)
        plan.append((best[1], n) if n >= min_len else None)
        seen.insert(at, (key, i))
    return plan


def greedy_stream(model: Any, prompts: Sequence[Sequence[int]], budgets: Sequence[int], *, pool_size: int,
                  stop_ids: set[int], device: Any = "cpu", reuse_prefixes: bool = True,
                  stats: dict[str, int] | None = None) -> Iterator[tuple[int, list[int]]]:
    """Yield ``(index, new token ids)`` for every prompt (token id lists) as soon as it is done.

    ``budgets[i]`` is prompt ``i``'s max new tokens. The ids include the stop token when one
    ended the sequence. ``stats``, when given, is filled with ``prompt_tokens`` (all prompt
    tokens) and ``reused_tokens`` (those taken from an earlier prompt's prefix, not recomputed).
    """
    import torch
    from transformers import DynamicCache

    plan = plan_prefix_reuse(prompts) if reuse_prefixes else [None] * len(prompts)
    need: dict[int, int] = {}  # donor -> longest prefix some later prompt takes from it
    users: dict[int, int] = {}  # donor -> prompts still to take a prefix from it
    for p in plan:
        if p:
            need[p[0]] = max(need.get(p[0], 0), p[1])
            users[p[0]] = users.get(p[0], 0) + 1
    kept: dict[int, list[tuple[Any, Any]]] = {}  # donor -> its prefix keys/values, [1, heads, need, dim]
    if stats is not None:
        stats.update(prompt_tokens=0, reused_tokens=0)

    params = inspect.signature(model.forward).parameters
    cache_kw = "cache" if "cache" in params else "past_key_values"
    keep_last = {"logits_to_keep": 1} if "logits_to_keep" in params else {}
    queue = deque(range(len(prompts)))
    rows: list[int] = []  # prompt index of each pool row
    gen: list[list[int]] = []  # tokens generated so far, per row
    pool = None  # the pool's cache: per layer [rows, heads, columns, dim], left-padded
    mask = None  # [rows, columns], 0 on padding

    def done(i: int, toks: list[int]) -> bool:
        return toks[-1] in stop_ids or len(toks) >= budgets[i]

    with torch.no_grad():
        while queue or rows:
            while queue and len(rows) < pool_size:  # fill the pool
                i = queue.popleft()
                start = 0
                if plan[i]:
                    donor, start = plan[i]
                    cache = DynamicCache(ddp_cache_data=[(k[:, :, :start], v[:, :, :start]) for k, v in kept[donor]])
                    users[donor] -= 1
                    if not users[donor]:
                        del kept[donor]
                else:
                    cache = DynamicCache()
                out = model(input_ids=torch.tensor([list(prompts[i][start:])], device=device), use_cache=True,
                            **{cache_kw: cache}, **keep_last)
                if stats is not None:
                    stats["prompt_tokens"] += len(prompts[i])
                    stats["reused_tokens"] += start
                if i in need:
                    kept[i] = [(layer.keys[:, :, :need[i]].clone(), layer.values[:, :, :need[i]].clone())
                               for layer in cache.layers]
                first = [int(out.logits[0, -1].argmax())]
                if done(i, first):
                    yield i, first
                    continue
                new = [(layer.keys, layer.values) for layer in cache.layers]
                n = new[0][0].shape[2]
                new_mask = torch.ones(1, n, dtype=torch.long, device=device)
                if pool is None:
                    pool, mask = _pool_cache([new], n), new_mask
                else:
                    width = max(mask.shape[1], n)
                    a, b = width - mask.shape[1], width - n
                    pool = _pool_cache([[(layer.keys, layer.values) for layer in pool.layers], new], width)
                    pad = torch.zeros
                    mask = torch.cat([torch.cat([pad(mask.shape[0], a, dtype=mask.dtype, device=device), mask], 1),
                                      torch.cat([pad(1, b, dtype=mask.dtype, device=device), new_mask], 1)])
                rows.append(i)
                gen.append(first)
            if not rows:
                break
            mask = torch.cat([mask, torch.ones(len(rows), 1, dtype=mask.dtype, device=device)], 1)
            out = model(input_ids=torch.tensor([[g[-1]] for g in gen], device=device), attention_mask=mask,
                        position_ids=mask.sum(1, keepdim=True) - 1, use_cache=True, **{cache_kw: pool})
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
                pool = mask = None
                continue
            idx = torch.tensor(keep, device=device)
            mask = mask.index_select(0, idx)
            lead = int((mask.cumsum(1) == 0).sum(1).min())  # columns that are padding in every row
            mask = mask[:, lead:]
            pool = _pool_cache([[(layer.keys[:, :, lead:].index_select(0, idx),
                                  layer.values[:, :, lead:].index_select(0, idx)) for layer in pool.layers]],
                               mask.shape[1])
