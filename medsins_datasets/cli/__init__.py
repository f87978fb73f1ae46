"""The ``medsins`` command line (:func:`main`); one module per command, listed in
:data:`medsins_datasets.cli.app.COMMAND_MODULES`."""

from medsins_datasets.cli.app import OPTIONAL_EXTRAS, build_parser, main, missing_extra_message

__all__ = ["OPTIONAL_EXTRAS", "build_parser", "main", "missing_extra_message"]
