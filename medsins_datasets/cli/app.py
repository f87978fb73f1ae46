"""The ``medsins`` command line: one sub-command per module of this package.

Each command module exposes ``add_parser(subparsers)`` and ``run(args) -> int`` and imports
heavy libraries (torch, transformers) only inside ``run`` so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from medsins_datasets import __version__
from medsins_datasets.errors import MedsinsError

#: command modules, in the order ``medsins --help`` lists them
COMMAND_MODULES = [
    "tasks",
    "build",
    "push",
    "push_metric",
    "sources",
    "convert",
    "render",
    "mix",
    "contamination",
    "score",
    "bench",
    "leaderboard",
    "push_results",
]


def _available_modules():
    for name in COMMAND_MODULES:
        try:
            yield importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":
                raise


#: optional libraries -> the extra of ``pip install medsins[...]`` that brings them
OPTIONAL_EXTRAS = {
    "torch": "bench", "transformers": "bench", "tokenizers": "bench", "gguf": "bench", "matplotlib": "bench",
    "trl": "train", "peft": "train", "accelerate": "train", "openpyxl": "convert", "vllm": "vllm",
}


def missing_extra_message(e: ImportError) -> str | None:
    """One line naming the library a command needs and the extra that installs it, when ``e``
    is the import of an optional dependency; None otherwise (a real bug: let it show)."""
    top = (getattr(e, "name", None) or "").split(".")[0]
    extra = OPTIONAL_EXTRAS.get(top)
    if extra is None:
        return None
    how = "pip install vllm (on a GPU machine)" if extra == "vllm" else f"pip install 'medsins[{extra}]'"
    return f"this needs {top}, which is not installed: {how}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medsins",
        description="MedS-Ins / MedS-Bench: medical instruction tasks as Hugging Face datasets, "
        "the MedS-Bench metrics, and a benchmark runner.",
    )
    parser.add_argument("--version", action="version", version=f"medsins {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (INFO level)")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks of file-system errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in _available_modules():
        p = mod.add_parser(sub)
        p.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bars (they are also left out when stderr is not a terminal)")
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a bad option (argparse printed one line naming it)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "quiet", False):
        from medsins_datasets.progress import set_quiet

        set_quiet(True)
    try:
        return int(args._run(args) or 0)
    except MedsinsError as e:
        print(f"medsins {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # an output folder under a file, read-only, a full disk...
        if getattr(args, "debug", False):
            raise
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        print(f"medsins {args.command}: error: cannot access{where}: {e.strerror or e} (--debug shows the "
              "traceback)", file=sys.stderr)
        return 2
    except ImportError as e:  # an optional dependency the command needs
        msg = missing_extra_message(e)
        if msg is None or getattr(args, "debug", False):
            raise
        print(f"medsins {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"medsins {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
