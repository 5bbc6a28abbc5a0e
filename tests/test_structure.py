"""The library's structure: the layers contract (import-linter), ruff, short functions, and options declared
once. These run in the test command, so CI enforces them."""
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "spiking_attn"
BIN = Path(sys.executable).parent
MAX_FUNCTION_LINES = 60


def lint_imports(cwd, package_parent):
    """Run import-linter with the repository's contracts on the package found in ``package_parent``."""
    environment = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([str(BIN / "lint-imports"), "--config", str(ROOT / "setup.cfg"), "--no-cache"], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=120)


def test_imports_only_go_down_and_have_no_cycles(tmp_path):
    done = lint_imports(tmp_path, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_a_cycle_breaks_the_contract(tmp_path):
    """A copy of the package in which arguments imports cli (which imports arguments) is refused."""
    copy = tmp_path / "copy"
    shutil.copytree(PACKAGE, copy / "spiking_attn", ignore=shutil.ignore_patterns("__pycache__"))
    arguments = copy / "spiking_attn" / "arguments.py"
    arguments.write_text(arguments.read_text() + "\nfrom .cli import main  # noqa: E402, F401\n")
    done = lint_imports(tmp_path, copy)
    assert done.returncode != 0
    assert "spiking_attn.arguments is not allowed to import spiking_attn.cli" in done.stdout
    assert "No import cycles between sibling modules at any depth BROKEN" in done.stdout


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_function_is_over_60_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert not long


def test_each_robustness_option_is_named_in_its_declaration_and_its_use_only():
    """An option lives in one place: the module that declares it (and uses it), the run options and the
    command line derived from the declaration. Named as an identifier or as a flag."""
    for name in ("dale", "membrane_noise", "heterogeneous", "input_spikes"):
        pattern = re.compile(rf"\b({name}|{name.replace('_', '-')})\b")
        files = sorted(str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
                       if pattern.search(path.read_text()))
        assert 1 <= len(files) <= 2, (name, files)
