"""Prompts: the official MedS-Bench layout (the default), the paper's prose template, the named
benchmark protocols and the choice of few-shot cases.

* :mod:`.render`: the layouts: official chat messages (:class:`ChatPrompt`, :func:`render_messages`,
  :func:`render_plain`) and the paper's template (:class:`PromptTemplate`, :func:`render_prompt`);
* :mod:`.protocols`: :class:`Protocol`, everything that decides a benchmark prompt and its decoding;
* :mod:`.shots`: shot pools, seeding, and the prompts of a task or of the whole benchmark
  (:func:`iter_task_prompts`, :func:`iter_bench_prompts`).
"""

from medsins_datasets.prompts.protocols import (
    DEFAULT_BENCH_SHOTS,
    DEFAULT_PROTOCOL,
    PROTOCOLS,
    TRAIN_EQUIVALENT,
    Protocol,
    bench_num_shots,
    get_protocol,
)
from medsins_datasets.prompts.render import (
    FEW_SHOT_SENTENCE,
    OFFICIAL_SENTENCE,
    PAPER_TEMPLATE,
    ChatPrompt,
    PromptTemplate,
    fit_prompt,
    official_parts,
    render_messages,
    render_plain,
    render_prompt,
    to_messages,
)
from medsins_datasets.prompts.shots import (
    DEFAULT_POOL_SIZE,
    ShotPool,
    choose_shot_pool,
    iter_bench_prompts,
    iter_task_prompts,
    render_instance,
    shot_donor,
    stable_seed,
)

__all__ = [
    "ChatPrompt", "DEFAULT_BENCH_SHOTS", "DEFAULT_POOL_SIZE", "DEFAULT_PROTOCOL", "FEW_SHOT_SENTENCE",
    "OFFICIAL_SENTENCE", "PAPER_TEMPLATE", "PROTOCOLS", "PromptTemplate", "Protocol",
    "ShotPool", "TRAIN_EQUIVALENT", "bench_num_shots", "choose_shot_pool", "fit_prompt", "get_protocol",
    "iter_bench_prompts", "iter_task_prompts", "official_parts", "render_instance", "render_messages",
    "render_plain", "render_prompt", "shot_donor", "stable_seed", "to_messages",
]
