"""Every use of transformers internals by the project, in one place, checked against the tested releases.

The continuous batching of :mod:`medsins_datasets.runner.continuous` needs what transformers does not
promise to keep between releases:

* a key/value cache layer that writes each decoding step's keys/values in place into buffers
  with spare columns and spare rows (:func:`pool_layer_class`, a subclass of
  ``transformers.DynamicLayer``, whose own ``update`` concatenates and so copies the whole cache
  at every step), wrapped in a ``transformers.Cache(layers=...)``;
* the keys/values of a prefill read back from a ``DynamicCache`` (``cache.layers[i].keys`` /
  ``.values``, ``[batch, kv heads, tokens, head dim]``);
* the name of the forward argument that takes the cache (``cache`` in 5.x, formerly
  ``past_key_values``) and ``logits_to_keep``;
* for speed only, never for correctness, the SDPA integration: with a padding mask a one-token
  query runs its grouped query heads as one short query per key/value head (``pack_gqa``),
  several times faster on a CPU in bfloat16 than the path taken when the mask is all ones (then
  transformers drops it). The pool therefore keeps one masked padding column.

:func:`problem` says why these cannot be used with the installed transformers (None when they
can): outside :data:`TESTED` it refuses, and inside it a small functional self-test checks the
pieces above. :func:`medsins_datasets.runner.continuous.supports` is False when there is a problem, so
generation falls back to ``model.generate`` (slower, never wrong) with a warning, and
``tests/runner/test_generation_paths.py`` fails with the same message. ``setup.cfg`` pins the same range.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Sequence

#: transformers releases this module was tested on: ``[first, end)`` on (major, minor); the
#: transformers lines of setup.cfg pin the same range
TESTED: tuple[tuple[int, int], tuple[int, int]] = ((5, 24), (5, 25))
TESTED_SPEC = f">={TESTED[0][0]}.{TESTED[0][1]},<{TESTED[1][0]}.{TESTED[1][1]}"

#: spare columns a pool cache layer is allocated with (and grows by, at least)
SPARE_COLUMNS = 64


def version_tuple(version: str) -> tuple[int, int]:
    """(major, minor) of a version string such as ``5.24.0`` or ``5.25.0.dev0``."""
    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in version.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def problem() -> str | None:
    """Why the installed transformers cannot run :mod:`medsins_datasets.runner.continuous` (None: it can)."""
    import transformers

    return _problem(transformers.__version__)


@functools.lru_cache(maxsize=8)
def _problem(version: str) -> str | None:
    if not TESTED[0] <= version_tuple(version) < TESTED[1]:
        return (f"transformers {version} is outside the range medsins' continuous batching was tested on "
                f"({TESTED_SPEC}): install a tested release (pip install 'transformers{TESTED_SPEC}'), or check "
                f"the cache classes and update medsins_datasets/runner/transformers_compat.py")
    try:
        _self_test()
    except Exception as e:  # noqa: BLE001 - any failure means "incompatible", with its reason
        return (f"transformers {version}: the cache internals medsins' continuous batching relies on changed "
                f"({type(e).__name__}: {e}); see medsins_datasets/runner/transformers_compat.py")
    return None


def check() -> None:
    """Raise :class:`RuntimeError` with :func:`problem`'s message when there is one."""
    why = problem()
    if why:
        raise RuntimeError(why)


def _self_test() -> None:
    """A pool layer inside a ``Cache``: in-place writes, growth, lengths and mask sizes as
    transformers reads them; a ``DynamicCache``'s layers holding ``.keys``."""
    import torch
    from transformers import Cache, DynamicCache

    k = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).view(2, 1, 3, 2)
    layer = pool_layer_class()(k.clone(), k.clone(), length=3, rows=2)
    cache = pool_cache([layer])
    if not isinstance(cache, Cache) or cache.get_seq_length() != 3:
        raise AssertionError("Cache(layers=...) does not read the layer's length")
    new = torch.ones(2, 1, 1, 2)
    keys, _ = cache.update(new, new, 0)  # no spare column left: the buffer grows
    if keys.shape != (2, 1, 4, 2) or not (torch.equal(keys[:, :, :3], k) and torch.equal(keys[:, :, 3:], new)):
        raise AssertionError("Cache.update does not go through the layer's update")
    if layer.get_seq_length() != 4 or cache.get_mask_sizes(1, 0)[0] != 5:
        raise AssertionError("the mask sizes are not read from the layer")
    dyn = DynamicCache()
    dyn.update(k, k, 0)
    if len(dyn.layers) != 1 or not torch.equal(dyn.layers[0].keys, k):
        raise AssertionError("DynamicCache layers do not hold .keys")


def cache_argument(model: Any) -> str | None:
    """The name of the forward argument taking the key/value cache (None: the model takes none)."""
    params = inspect.signature(model.forward).parameters
    return next((name for name in ("cache", "past_key_values") if name in params), None)


def full_attention_only(model: Any) -> bool:
    """True when the model is decoder-only and every layer attends to the whole sequence (the
    pool caches every key; sliding-window, chunked or recurrent layers need other caches)."""
    cfg = model.config
    if getattr(cfg, "is_encoder_decoder", False):
        return False
    text = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    types = getattr(text, "layer_types", None)
    if types is not None:
        return all(t == "full_attention" for t in types)
    if getattr(text, "sliding_window", None) and getattr(text, "use_sliding_window", True):
        return False
    return not getattr(text, "attention_chunk_size", None)


def prefill(model: Any, ids: Sequence[int], device: Any) -> tuple[int, list[tuple[Any, Any]]]:
    """One prompt through ``model`` alone, unpadded, as ``model.generate`` runs it: the greedy
    next token and the keys/values of every layer, ``[1, kv heads, tokens, head dim]``."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache()
    extra = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(model.forward).parameters else {}
    out = model(input_ids=torch.tensor([list(ids)], device=device), use_cache=True,
                **{cache_argument(model): cache}, **extra)
    return int(out.logits[0, -1].argmax()), [(layer.keys, layer.values) for layer in cache.layers]


def pool_cache(layers: Sequence[Any]) -> Any:
    """A ``transformers.Cache`` made of the given pool layers."""
    from transformers import Cache

    return Cache(layers=list(layers))


@functools.lru_cache(maxsize=1)
def pool_layer_class() -> type:
    """The pool's cache layer class (built on first use: importing this module does not import
    transformers).

    A layer holds buffers ``[row capacity, kv heads, column capacity, head dim]``; rows
    ``:rows`` and columns ``:length`` are in use. Every row is right-aligned at ``length``
    (masked columns on its left). The model's ``update`` writes each step's keys/values in place
    at column ``length`` (growing the buffers, one copy, only when full); the pool writes a
    joining prompt into a row with :meth:`write_row`, adds rows with :meth:`add_rows`, shifts
    every row right with :meth:`widen` and drops rows and leading columns with :meth:`compact`.
    """
    from transformers import DynamicLayer

    class PoolLayer(DynamicLayer):
        def __init__(self, keys: Any, values: Any, *, length: int, rows: int):
            super().__init__()
            self._k, self._v, self._n, self.rows = keys, values, length, rows
            self.device = keys.device
            self.is_initialized = True
            self._expose()

        def _expose(self) -> None:
            self.keys = self._k[:self.rows, :, :self._n]
            self.values = self._v[:self.rows, :, :self._n]

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            m = key_states.shape[-2]
            if self._n + m > self._k.shape[2]:
                self._realloc(self._k.shape[0], self._n + m + max(SPARE_COLUMNS, self._n // 2))
            self._k[:self.rows, :, self._n:self._n + m] = key_states
            self._v[:self.rows, :, self._n:self._n + m] = value_states
            self._n += m
            self._expose()
            return self.keys, self.values

        def _realloc(self, row_capacity: int, col_capacity: int, *, shift: int = 0, lead: int = 0,
                     keep: Any = None) -> None:
            """New buffers; the used block (its columns from ``lead``, its rows ``keep`` or all)
            is copied in at column ``shift``."""
            k, v = self._k[:self.rows, :, lead:self._n], self._v[:self.rows, :, lead:self._n]
            if keep is not None:
                k, v = k.index_select(0, keep), v.index_select(0, keep)
            shape = (row_capacity, k.shape[1], col_capacity, k.shape[3])
            self._k, self._v = k.new_zeros(shape), v.new_zeros(shape)
            self._k[:k.shape[0], :, shift:shift + k.shape[2]] = k
            self._v[:v.shape[0], :, shift:shift + v.shape[2]] = v
            self.rows, self._n = k.shape[0], shift + k.shape[2]
            self._expose()

        def add_rows(self, count: int) -> None:
            """``count`` more rows in use (zeros, to be written with :meth:`write_row`)."""
            if self.rows + count > self._k.shape[0]:
                self._realloc(self.rows + count, self._k.shape[2])
            self.rows += count
            self._k[self.rows - count:self.rows].zero_()
            self._v[self.rows - count:self.rows].zero_()
            self._expose()

        def write_row(self, row: int, keys: Any, values: Any) -> None:
            """Row ``row`` ends with ``keys``/``values`` ``[1, heads, n, dim]`` (right-aligned at
            ``length``; the columns before them keep stale finite values, hidden by the mask)."""
            n = keys.shape[2]
            self._k[row, :, self._n - n:self._n] = keys[0]
            self._v[row, :, self._n - n:self._n] = values[0]

        def widen(self, left: int) -> None:
            """``left`` more columns in front of every row (zeros, masked)."""
            self._realloc(self._k.shape[0], self._n + left + SPARE_COLUMNS, shift=left)

        def compact(self, lead: int, keep: Any = None) -> None:
            """Drop the first ``lead`` columns, and every row not in ``keep`` (an index tensor)."""
            rows = self.rows if keep is None else len(keep)
            self._realloc(rows, self._n - lead + SPARE_COLUMNS, lead=lead, keep=keep)

    return PoolLayer
