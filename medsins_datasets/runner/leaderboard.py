"""Leaderboard tables and radar charts in the layout of the paper's Tables 1-8.

Rows come from run folders of ``medsins bench`` (their ``results.json``) and, optionally, from
the numbers the paper published (``data/paper_results.json``: GPT-4, Claude-3.5, MEDITRON,
InternLM 2, Mistral, Llama 3, MMedIns-Llama 3). Demo runs are listed in their own section and
never beside real or published results.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from medsins_datasets._files import check_own_folder, make_output_folder
from medsins_datasets.errors import MedsinsError
from medsins_datasets.scoring.tables import TABLES, Table

LEADERBOARD_FILE = "leaderboard.md"
#: written first into every leaderboard folder: only such a folder is ever written to again
LEADERBOARD_MARKER = ".medsins_leaderboard.json"


@dataclass
class Row:
    label: str
    tables: dict[str, dict[str, Any]]  # table key -> column name -> {metric: value} | None
    kind: str  # "run" | "slice" | "paper"


def load_run(folder: str | Path) -> Row:
    """A leaderboard row from a ``medsins bench`` output folder."""
    path = Path(folder) / "results.json"
    if not path.is_file():
        raise MedsinsError(f"{path} not found: is {folder} a `medsins bench --output` folder of a finished run?")
    try:
        res = json.loads(path.read_text(encoding="utf-8"))
        tables, model = res["tables"], res["model"]
    except (ValueError, KeyError) as e:
        raise MedsinsError(f"{path} is not a medsins results file ({e})") from e
    small = bool(res.get("slice") or res.get("demo"))  # "demo": runs of earlier versions (invented demo set)
    return Row(label=f"{model} [slice]" if small else model, tables=tables, kind="slice" if small else "run")


def paper_rows() -> list[Row]:
    """The published numbers of the paper's Tables 1-8."""
    doc = json.loads((resources.files("medsins_datasets") / "data" / "paper_results.json").read_text(encoding="utf-8"))
    return [Row(label=f"{model} (paper)", tables=tables, kind="paper") for model, tables in doc["models"].items()]


def _metrics_of(table: Table, column: str) -> tuple[str, ...]:
    for c in table.columns:
        if c.name == column:
            return c.metrics
    return next(c.metrics for c in table.columns if c.name == table.avg_of[0])  # "Avg."


def _cell(cell: dict | None, metrics: tuple[str, ...]) -> str:
    if not cell or all(cell.get(m) is None for m in metrics):
        return "-"
    return "/".join("-" if cell.get(m) is None else f"{cell[m]:.2f}" for m in metrics)


def table_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns] + (["Avg."] if table.avg_of else [])


def markdown_table(table: Table, rows: list[Row]) -> str | None:
    """One paper table as markdown, one row per model; None when no row has any cell of it."""
    cols = table_columns(table)
    body = []
    for r in rows:
        cells = r.tables.get(table.key) or {}
        texts = [_cell(cells.get(c), _metrics_of(table, c)) for c in cols]
        if all(t == "-" for t in texts):
            continue
        body.append(f"| {r.label} | " + " | ".join(texts) + " |")
    if not body:
        return None
    head = "| Model | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols)
    return f"**{table.title}**\n\n{head}\n" + "\n".join(body) + "\n"


def render_markdown(rows: list[Row]) -> str:
    real = [r for r in rows if r.kind != "slice"]
    small = [r for r in rows if r.kind == "slice"]
    parts = ["# MedS-Bench leaderboard\n"]
    for section, members in (("", real), ("## Runs on the bundled MedS-Bench slice (real data, a few instances per "
                                           "task: NOT comparable with the paper)\n", small)):
        if not members:
            continue
        if section:
            parts.append(section)
        for table in TABLES:
            md = markdown_table(table, members)
            if md:
                parts.append(md)
    return "\n".join(parts)


def radar_chart(table: Table, rows: list[Row], path: Path) -> bool:
    """A radar chart of one table's columns (first metric of each; BLEU for BLEU/ROUGE cells)."""
    cols = list(table.columns)
    series = []
    for r in rows:
        cells = r.tables.get(table.key) or {}
        vals = [(cells.get(c.name) or {}).get(c.metrics[-1] if c.metrics == ("precision", "recall", "f1")
                                              else c.metrics[0]) for c in cols]
        if any(v is not None for v in vals):
            series.append((r.label, [0.0 if v is None else float(v) for v in vals]))
    if len(cols) < 3 or not series:
        return False
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    angles = [2 * math.pi * i / len(cols) for i in range(len(cols))]
    fig = plt.figure(figsize=(7, 7))
    ax = fig.add_subplot(polar=True)
    for label, vals in series:
        ax.plot(angles + angles[:1], vals + vals[:1], label=label)
        ax.fill(angles + angles[:1], vals + vals[:1], alpha=0.08)
    ax.set_xticks(angles)
    ax.set_xticklabels([c.name for c in cols], fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_title(table.title, fontsize=9)
    ax.legend(loc="upper right", bbox_to_anchor=(1.35, 1.1), fontsize=7)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return True


def write_leaderboard(run_dirs: list[str | Path], out: str | Path, *, include_paper: bool = False,
                      charts: bool = True) -> Path:
    """Write ``leaderboard.md``, radar charts and a copy of each run's results into ``out``."""
    rows = [load_run(d) for d in run_dirs]
    if include_paper:
        rows = rows + paper_rows()
    if not rows:
        raise MedsinsError("no runs given (and --paper not set): nothing to put on a leaderboard")
    from medsins_datasets import __version__

    out = Path(out)
    check_own_folder(out, LEADERBOARD_MARKER, "--out", "leaderboard", also=("run.json",))  # a bench run folder
    make_output_folder(out, "--out")
    (out / LEADERBOARD_MARKER).write_text(json.dumps({"medsins_version": __version__}) + "\n", encoding="utf-8")
    (out / LEADERBOARD_FILE).write_text(render_markdown(rows), encoding="utf-8")
    results_dir = out / "results"
    results_dir.mkdir(exist_ok=True)
    for i, d in enumerate(run_dirs):
        shutil.copyfile(Path(d) / "results.json", results_dir / f"{i:02d}_{Path(d).name}.json")
    if charts:
        for kind in ("real", "slice"):
            members = [r for r in rows if (r.kind == "slice") == (kind == "slice")]
            for table in TABLES:
                suffix = "_slice" if kind == "slice" else ""
                radar_chart(table, members, out / f"radar_{table.key}{suffix}.png")
    return out / LEADERBOARD_FILE


#: the only files of the folder a leaderboard push uploads (plus the generated card, README.md)
PUSHED_FILES = [LEADERBOARD_FILE, "radar_*.png", "results/*.json"]

LEADERBOARD_TITLE = "MedS-Bench leaderboard"


def _run_row(res: dict) -> str:
    """One line of the card's run table, from a results.json (no local paths: the card is public)."""
    commits = res.get("source_commits") or {}
    if res.get("slice") or res.get("demo"):
        data = "bundled MedS-Bench slice"
    elif commits:
        data = ", ".join(f"{repo}@{sha[:7]}" for repo, sha in sorted(commits.items()))
    else:
        data = "local task files"
    proto = res.get("protocol") or {}
    proto_name = proto.get("name", "?") if isinstance(proto, dict) else str(proto)
    model = str(res.get("model", "?")).replace("|", "\\|")
    return (f"| {model} | {data} | {proto_name} | {res.get('n_predictions', '?')} | "
            f"{len(res.get('tasks') or {})} |")


def leaderboard_card(folder: str | Path):
    """The dataset card (a :class:`huggingface_hub.DatasetCard`) of a leaderboard folder written by
    :func:`write_leaderboard`: metadata (tags, no dataset viewer: the files are tables and nested
    JSON, not rows) and a body from ``templates/leaderboard_card.md`` with the runs, the charts
    and the tables. Built from the files the push uploads, so the card describes exactly them."""
    from huggingface_hub import DatasetCard, DatasetCardData

    from medsins_datasets import __version__
    from medsins_datasets.cards import citation, render_template

    folder = Path(folder)
    board = folder / LEADERBOARD_FILE
    if not board.is_file():
        raise MedsinsError(f"{board} not found: is {folder} a folder written by `medsins leaderboard`?")
    runs = []
    for path in sorted((folder / "results").glob("*.json")):
        try:
            res = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise MedsinsError(f"{path} is not a medsins results file ({e})") from e
        if not isinstance(res, dict):
            raise MedsinsError(f"{path} is not a medsins results file (not a JSON object)")
        runs.append(res)
    md = board.read_text(encoding="utf-8")
    tables = md.split("\n", 1)[1].lstrip("\n") if md.startswith("# ") else md
    charts = sorted(p.name for p in folder.glob("radar_*.png"))
    data = DatasetCardData(
        pretty_name=LEADERBOARD_TITLE,
        language=["en"],
        size_categories=["n<1K"],
        tags=["medical", "leaderboard", "evaluation", "meds-bench", "medsins"],
        viewer=False,
    )
    body = render_template(
        "leaderboard_card.md",
        title=LEADERBOARD_TITLE,
        medsins_version=__version__,
        n_runs=len(runs),
        paper_note=", with the numbers published in the paper as reference rows" if "(paper) |" in md else "",
        run_rows="\n".join(_run_row(r) for r in runs) or "| (none: published numbers only) | | | | |",
        charts="".join(f"![{c[:-4]}]({c})\n" for c in charts) + ("\n" if charts else ""),
        tables=tables,
        citation=citation(),
    )
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}")


def push_leaderboard(folder: str | Path, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload a leaderboard folder (tables, charts, results.json copies; never predictions) as a
    Hub dataset, with a dataset card, in one commit.

    Only the files matching :data:`PUSHED_FILES` leave the folder, whatever else it holds
    (predictions.jsonl, run.json, the user's files when ``--out`` is a working folder, a README.md
    of the user's); the card is generated (:func:`leaderboard_card`) and checked by the Hub's card
    validator before the repo is created.
    """
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.utils import filter_repo_objects

    from medsins_datasets.cards import validate_card

    folder = Path(folder)
    card = leaderboard_card(folder)
    validate_card(card, repo_type="dataset")
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    ops = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(folder / f))
           for f in filter_repo_objects(files, allow_patterns=PUSHED_FILES)]
    ops.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=str(card).encode("utf-8")))
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    info = api.create_commit(repo_id, ops, repo_type="dataset", commit_message="Update MedS-Bench leaderboard")
    return str(getattr(info, "commit_url", info))
