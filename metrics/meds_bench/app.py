"""Hugging Face Space launcher of the ``meds_bench`` metric (the standard evaluate metric widget).

A Space with ``sdk: gradio`` runs ``python app.py`` from the repository root, which holds this
file, ``meds_bench.py``, ``README.md`` (the card, shown under the widget) and
``requirements.txt`` (medsins and the pinned scoring tokenizers). The metric is loaded from the
script next to this file, so the widget works whatever the Space is called and without
looking anything up on the Hub. gradio is only needed on the Space: importing this module
elsewhere (tests, ``python -c "import app"``) loads nothing and launches nothing.
"""

from pathlib import Path

import evaluate
from evaluate.utils import launch_gradio_widget

METRIC_SCRIPT = Path(__file__).resolve().parent / "meds_bench.py"


def load_module() -> evaluate.EvaluationModule:
    """The metric of this folder (default config: ``predictions``, ``references``, ``tasks``)."""
    return evaluate.load(str(METRIC_SCRIPT))


def main() -> None:
    """Build and launch the widget (``launch_gradio_widget`` imports gradio when it is called)."""
    launch_gradio_widget(load_module())


if __name__ == "__main__":
    main()
