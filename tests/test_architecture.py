"""The import architecture: no TensorFlow at import, no import cycles, no reaching into another subpackage's
private modules, no plugin importing another plugin, imports only at module top."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("comp", "competitions")
PLUGINS = "competitions"
SHARED_PRIVATE = {"comp._lazy"}  # lazy_import is for every module of comp and of the plugins


@dataclass(frozen=True)
class Import:
    """One imported module or name, resolved to absolute dotted names."""

    importer: str  # dotted name of the importing module ("comp.engine" for comp/engine/__init__.py)
    path: Path
    line: int
    target: str  # the module imported, or the module holding the imported name
    name: str | None  # the imported name when it is not a submodule
    at_top: bool  # executed when the module is imported (not in a function, not under TYPE_CHECKING)
    in_function: bool

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file for every module of the checked packages under ``root``."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def is_type_checking(node: ast.If) -> bool:
    """Whether ``node`` is ``if TYPE_CHECKING:`` (its imports are for annotations and never run)."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_statements(tree: ast.Module):
    """(node, in_function, under_type_checking) for every import statement of a module."""
    def visit(statements, in_function, type_checking):
        for node in statements:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node, in_function, type_checking
            elif isinstance(node, ast.If) and is_type_checking(node):
                yield from visit(node.body, in_function, True)
                yield from visit(node.orelse, in_function, type_checking)
            else:
                nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                yield from visit(ast.iter_child_nodes(node), nested, type_checking)
    yield from visit(tree.body, False, False)


def imports_of(module: str, path: Path, root: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import statement of one module, resolved to the modules (or names) it names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    shown = path.relative_to(root)
    found = []
    for node, in_function, type_checking in import_statements(tree):
        at_top = not in_function and not type_checking
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, shown, node.lineno, alias.name, None, at_top, in_function))
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in modules:
                found.append(Import(module, shown, node.lineno, submodule, None, at_top, in_function))
            else:
                found.append(Import(module, shown, node.lineno, base, alias.name, at_top, in_function))
    return found


def private_part(dotted: str, modules: dict[str, Path]) -> tuple[str, str] | None:
    """(``dotted`` up to its first ``_private`` part, the package that owns that part), or None when all is public.

    ``comp.engine._tuning.tune`` -> (``comp.engine._tuning``, ``comp.engine``); a private name of a plain module
    belongs to the module's package: ``comp.metrics._table`` -> (``comp.metrics._table``, ``comp``).
    """
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            prefix = ".".join(parts[:index])
            is_plain_module = prefix in modules and modules[prefix].name != "__init__.py"
            return ".".join(parts[:index + 1]), prefix.rpartition(".")[0] if is_plain_module else prefix
    return None


def find_cycle(graph: dict[str, list[Import]]) -> list[Import] | None:
    """The edges of one import cycle in ``graph`` (module -> its top-level imports of our modules), or None."""
    done: set[str] = set()
    stack: list[str] = []  # modules on the current path; edges[i] imports stack[i + 1] from stack[i]
    edges: list[Import] = []

    def visit(module: str) -> list[Import] | None:
        stack.append(module)
        for edge in graph.get(module, []):
            if edge.target in stack:
                return edges[stack.index(edge.target):] + [edge]
            if edge.target not in done:
                edges.append(edge)
                cycle = visit(edge.target)
                if cycle:
                    return cycle
                edges.pop()
        stack.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def architecture_violations(root: Path) -> list[str]:
    """One line per broken import rule in the packages under ``root``, each naming the file and line."""
    modules = module_names(root)
    graph: dict[str, list[Import]] = {}
    problems = []
    for module, path in modules.items():
        for found in imports_of(module, path, root, modules):
            if found.in_function:
                problems.append(f"{found.where}: import inside a function ({found.target}); import at module top "
                                "(TensorFlow/Keras through comp._lazy.lazy_import)")
            full = f"{found.target}.{found.name}" if found.name else found.target
            private, owner = private_part(full, modules) or (None, None)
            if (private is not None and private not in SHARED_PRIVATE
                    and found.importer != owner and not found.importer.startswith(owner + ".")):
                problems.append(f"{found.where}: {found.importer} imports private {full} from outside {owner}; "
                                f"import a public name of {owner} instead")
            importer_parts, target_parts = found.importer.split("."), found.target.split(".")
            if (importer_parts[0] == target_parts[0] == PLUGINS and len(importer_parts) > 1 and len(target_parts) > 1
                    and importer_parts[1] != target_parts[1]):
                problems.append(f"{found.where}: plugin {'.'.join(importer_parts[:2])} imports another plugin "
                                f"{found.target}")
            if found.at_top and found.target in modules:
                graph.setdefault(module, []).append(found)
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import cycle " + " -> ".join([cycle[0].importer] + [e.target for e in cycle]) + ": "
                        + "; ".join(f"{e.where} imports {e.target}" for e in cycle))
    return problems


def test_the_packages_keep_the_import_rules():
    problems = architecture_violations(REPO_ROOT)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", ["comp", "comp.cli"] + [
    f"{PLUGINS}.{init.parent.name}" for init in sorted((REPO_ROOT / PLUGINS).glob("*/__init__.py"))])
def test_importing_the_package_or_a_plugin_loads_no_tensorflow_so_comp_list_starts_fast(module):
    script = (f"import sys, {module}\n"
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, check=False, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import {module} loaded {result.stdout.strip()[:300]}"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A fake checkout: ``comp``/``competitions`` packages with the given module sources."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


def test_a_cycle_through_a_package_init_is_reported_with_each_file_and_line(tmp_path):
    root = write_tree(tmp_path, {
        "comp/engine/__init__.py": "from comp.engine._tuning import tune\n",
        "comp/engine/_tuning.py": "import os\n\nfrom comp.report import write_report\n",
        "comp/report/__init__.py": "from comp.engine import tune\n",
    })
    [problem] = architecture_violations(root)
    assert problem.startswith("import cycle comp.engine -> comp.engine._tuning -> comp.report -> comp.engine")
    assert "comp/engine/_tuning.py:3 imports comp.report" in problem
    assert "comp/report/__init__.py:1 imports comp.engine" in problem


def test_imports_only_for_type_checking_make_no_cycle(tmp_path):
    root = write_tree(tmp_path, {
        "comp/a.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from comp.b import B\n",
        "comp/b.py": "from comp.a import A\n",
    })
    assert architecture_violations(root) == []


def test_a_private_module_of_another_subpackage_is_reported(tmp_path):
    root = write_tree(tmp_path, {
        "comp/vision/heads/_layers.py": "",
        "comp/vision/heads/_heads.py": "from comp.vision.heads import _layers\n",  # its own subpackage: fine
        "comp/vision/_export.py": "from comp.vision.heads._layers import Attention\n",
        "comp/engine/_tuning.py": "from comp._lazy import lazy_import\nfrom comp.engine._fold_runner import x\n"
                                  "from optuna.storages._heartbeat import fail_stale_trials\n",
        "comp/engine/_fold_runner.py": "",
        "comp/_lazy.py": "",
        "competitions/dogs/plugin.py": "from comp._lazy import lazy_import\nfrom comp.engine import _tuning\n",
    })
    problems = architecture_violations(root)
    assert len(problems) == 3, problems
    assert problems[0].startswith("comp/engine/_tuning.py:3: comp.engine._tuning imports private "
                                  "optuna.storages._heartbeat.fail_stale_trials from outside optuna.storages")
    assert problems[1].startswith("comp/vision/_export.py:1: comp.vision._export imports private "
                                  "comp.vision.heads._layers.Attention from outside comp.vision.heads")
    assert problems[2].startswith("competitions/dogs/plugin.py:2:")


def test_a_plugin_importing_another_plugin_is_reported(tmp_path):
    root = write_tree(tmp_path, {
        "competitions/dogs/__init__.py": "",
        "competitions/dogs/reader.py": "from competitions.dogs.plugin import x\n",
        "competitions/captcha/__init__.py": "",
        "competitions/captcha/reader.py": "import os\nfrom competitions.dogs import reader\n",
    })
    assert architecture_violations(root) == [
        ("competitions/captcha/reader.py:2: plugin competitions.captcha imports another plugin "
         "competitions.dogs.reader")]


def test_an_import_inside_a_function_is_reported(tmp_path):
    root = write_tree(tmp_path, {
        "comp/report/page.py": "import json\n\n\nclass Page:\n    def render(self):\n"
                               "        import tensorflow as tf\n        return tf\n",
    })
    [problem] = architecture_violations(root)
    assert problem.startswith("comp/report/page.py:6: import inside a function (tensorflow)")
