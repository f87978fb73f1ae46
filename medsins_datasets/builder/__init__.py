"""Stage 3, datasets: task files -> Hugging Face datasets.

* :mod:`.hf_builder`: the ``datasets`` builder (:class:`MedSIns`, one config per task);
* :mod:`.parquet`: the hub-native build (Parquet shards per config and split);
* :mod:`.manifest`: what a build wrote; :mod:`.card`: its dataset card; :mod:`.push`: the upload.

Everything here imports ``datasets`` or ``pyarrow``; the names below load on first use.
"""

_LAZY = {"MedSIns": "hf_builder", "MedSInsConfig": "hf_builder", "build": "parquet"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
