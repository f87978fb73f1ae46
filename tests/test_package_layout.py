"""The package's layout rules, checked on its source (issue 15).

* no import cycles between modules: every import counts, at module level, inside functions
  and under ``TYPE_CHECKING`` (a cycle that only typing needs is still a cycle in the design),
  except ``from medsins_datasets import __version__``: the root sets it before importing anything;
* no private name (``_x``) imported from a module of another stage (the stage of
  ``medsins_datasets.scoring.rules`` is ``scoring``; a top-level module is a stage of its own);
* every module imports on its own in a fresh interpreter (a cycle through a package
  ``__init__`` shows only at run time);
* no module over 500 lines unless its docstring says why (a paragraph starting ``Size:``);
* the top level holds the stage packages and a few shared modules, nothing else.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common import REPO_ROOT

PKG = REPO_ROOT / "medsins_datasets"
NAME = "medsins_datasets"
MAX_LINES = 500

#: the pipeline's stages, in order, and the shared modules beside them
STAGES = ("registry", "taskfile", "sources", "builder", "prompts", "mixture", "scoring", "runner", "training",
          "cli")
SHARED = ("__init__", "_files", "_moved", "cards", "contamination", "errors", "models", "progress")


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for the package and the converters installed inside it."""
    out: dict[str, Path] = {}
    for root, name in ((PKG, NAME), (REPO_ROOT / "loading_scripts", f"{NAME}.loading_scripts")):
        for f in sorted(root.rglob("*.py")):
            rel = f.relative_to(root).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            out[".".join((name, *rel))] = f
    return out


MODULES = _modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import anywhere in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            for a in node.names:
                sub = f"{target}.{a.name}"
                if target == NAME and a.name == "__version__":
                    continue  # set by the root package before it imports anything: never part of a cycle
                found.append((sub, None, node.lineno) if sub in MODULES else (target, a.name, node.lineno))
    return [f for f in found if f[0] == NAME or f[0].startswith(NAME + ".")]


def _graph() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in _imports(m, p) if t in MODULES and t != m} for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _rel(path: Path) -> str:
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_private_names_across_stages():
    bad = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # names bound to modules of other stages (``from medsins_datasets import mixture as m``)
        module_aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(module, path.name == "__init__.py", node)
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if sub in MODULES:
                        module_aliases[a.asname or a.name] = sub
                    elif target.startswith(NAME) and a.name.startswith("_") and not a.name.startswith("__") \
                            and stage_of(target) != stage_of(module):
                        bad.append(f"{_rel(path)}:{node.lineno} imports {a.name} from {target}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in MODULES and a.asname:
                        module_aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in module_aliases and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                target = module_aliases[node.value.id]
                if stage_of(target) != stage_of(module):
                    bad.append(f"{_rel(path)}:{node.lineno} uses {target}.{node.attr}")
    assert not bad, "private names used across stages:\n" + "\n".join(bad)


def test_private_name_check_catches_a_planted_use(tmp_path, monkeypatch):
    planted = tmp_path / "planted.py"
    planted.write_text("from medsins_datasets.mixture.spill import _secret\n"
                       "from medsins_datasets import scoring as s\nx = s._hidden\n", encoding="utf-8")
    monkeypatch.setitem(MODULES, f"{NAME}.runner.planted", planted)
    with pytest.raises(AssertionError) as e:
        test_no_private_names_across_stages()
    assert "imports _secret" in str(e.value) and "scoring._hidden" in str(e.value)


_IMPORT_EACH = r"""
import importlib, os, sys
# third-party libraries first, once; then one forked child per module imports it from scratch
for lib in ("numpy", "pyarrow", "pyarrow.parquet", "datasets", "huggingface_hub", "yaml", "tqdm"):
    importlib.import_module(lib)
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as e:
            print(f"{name}: {type(e).__name__}: {e}", flush=True)
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(name)
sys.exit(1 if failed else 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_module_imports_on_its_own():
    names = sorted(m for m in MODULES if not m.endswith("__main__"))
    r = subprocess.run([sys.executable, "-c", _IMPORT_EACH, *names], capture_output=True, text=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]


def test_long_modules_say_why():
    long = []
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        n = text.count("\n")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if n > MAX_LINES and "\nSize:" not in "\n" + doc:
            long.append(f"{path.relative_to(REPO_ROOT)} ({n} lines)")
    assert not long, f"modules over {MAX_LINES} lines without a 'Size:' paragraph in their docstring: {long}"


def test_top_level_holds_the_stages_and_shared_modules():
    entries = {p.stem for p in PKG.glob("*.py")} | {p.name for p in PKG.iterdir()
                                                    if p.is_dir() and (p / "__init__.py").exists()}
    assert entries == set(STAGES) | set(SHARED), (
        f"unexpected: {sorted(entries - set(STAGES) - set(SHARED))}; missing: {sorted(set(STAGES) | set(SHARED) - entries)}")
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((PKG / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"medsins_datasets/{stage}/__init__.py has no docstring saying what the stage holds"


def _documented_imports() -> list[tuple[str, str]]:
    """(file, statement) for every ``from medsins_datasets... import ...`` line in the docs'
    Python code blocks (README.md, docs/, recipes/ and metrics/ READMEs)."""
    import re

    found = []
    docs = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")),
            *sorted((REPO_ROOT / "recipes").glob("*.md")), *sorted((REPO_ROOT / "metrics").glob("*/README.md"))]
    for doc in docs:
        for block in re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S):
            for line in block.splitlines():
                if re.match(r"\s*(from medsins_datasets[\w.]* import [\w, ]+|import medsins_datasets[\w.]*)\s*$", line):
                    found.append((_rel(doc), line.strip()))
    return found


def test_every_documented_import_works():
    imports = _documented_imports()
    assert len(imports) >= 10, imports  # the docs do document imports: the scan must find them
    code = "import warnings\nwarnings.simplefilter('error')\n" + "\n".join(stmt for _, stmt in imports)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert r.returncode == 0, f"a documented import fails (or warns): {r.stderr[-1500:]}"


def test_moved_module_paths_still_import_with_a_warning():
    """The module paths documented before the stage folders keep working: the same module object
    as at its new path, with a FutureWarning naming that path."""
    import importlib
    import warnings

    from medsins_datasets._moved import MOVED

    for old, new in MOVED.items():
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(old)
        assert module is importlib.import_module(new), old
        assert any(issubclass(w.category, FutureWarning) and new in str(w.message) for w in caught), old
    from medsins_datasets.bench import run_bench  # noqa: F401  (the documented form)


def test_no_package_name_shadows_one_of_its_modules():
    """``from medsins_datasets.sources import converters`` must give the module: a package that
    re-exports a function of the same name as one of its modules hides that module."""
    import importlib

    bad = []
    for module, path in MODULES.items():
        if path.name != "__init__.py" or not module.startswith(NAME):
            continue
        package = importlib.import_module(module)
        for sub in (m for m in MODULES if m.rpartition(".")[0] == module):
            leaf = sub.rpartition(".")[2]
            value = getattr(package, leaf, None)
            if value is not None and value is not importlib.import_module(sub):
                bad.append(f"{module}.{leaf} is {type(value).__name__}, not the module {sub}")
    assert not bad, bad
