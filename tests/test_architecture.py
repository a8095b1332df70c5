"""Structural rules: one direction of imports, heavy imports only where used, no unsafe loading."""

import ast
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

PACKAGES = ("data", "models", "train")
ALLOWED = {"data": set(), "models": {"data"}, "train": {"data", "models"}}


def imported_packages(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_run_one_way(package):
    for path in (REPO / package).rglob("*.py"):
        bad = imported_packages(path) - ALLOWED[package] - {package}
        assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def test_importing_models_does_not_import_torch():
    code = (
        "import models, data.build, sys; "
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "False False"


UNSAFE = [
    (r"\bimport pickle\b|\bpickle\.load", "pickle"),
    (r"joblib\.load", "joblib.load"),
    (r"torch\.load\((?![^)]*weights_only=True)", "torch.load without weights_only=True"),
    (r"yaml\.load\((?![^)]*SafeLoader)", "yaml.load without a safe loader"),
    (r"trust_remote_code\s*=\s*True", "trust_remote_code"),
]


def test_source_uses_no_unsafe_loading():
    hits = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text()
            hits += [
                f"{path.relative_to(REPO)}: {what}"
                for pattern, what in UNSAFE
                if re.search(pattern, text)
            ]
    assert hits == []


def test_single_machine_path_never_imports_ray_or_accelerate():
    # Ray and accelerate are optional extras: the default commands must run without them.
    code = (
        "import sys, train.cli, train.fit, train.loop, models.inference, models.batch_predict, "
        "data.build, data.pool; "
        "print('ray' in sys.modules, 'accelerate' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "False False"
