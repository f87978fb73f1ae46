"""Old import paths of modules that moved into the stage packages (0.1 layout -> stage folders).

``from medsins_datasets.bench import run_bench`` (documented before the package was split into
stage folders) keeps working: importing an old path gives the module at its new path, the same
module object, with a :class:`FutureWarning` naming the new path. Only paths that README.md, docs/
or converter modules documented are kept; the rest of the code imports the new paths.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old module path -> new module path
MOVED = {
    "medsins_datasets.backends": "medsins_datasets.runner.backends",
    "medsins_datasets.bench": "medsins_datasets.runner.run",
    "medsins_datasets.convert": "medsins_datasets.sources.converters",
    "medsins_datasets.overlap": "medsins_datasets.scoring.overlap",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; import it from there", FutureWarning, stacklevel=2)
        # the module at its new path: module_from_spec keeps its own __name__ and __spec__
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # already executed at its new path


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
