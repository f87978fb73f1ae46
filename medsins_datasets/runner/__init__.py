"""Stage 6, the MedS-Bench runner: prompts -> generation -> predictions -> scores.

* :mod:`.run`: run directories, resuming, output budgets (:func:`run_bench`);
* :mod:`.backends`: transformers, vLLM and OpenAI-compatible generation;
  :mod:`.continuous` and :mod:`.transformers_compat`: continuous batching on transformers;
* :mod:`.leaderboard` and :mod:`.results_push`: results as tables, a leaderboard repo, and
  model-card ``model-index`` entries.
"""
