"""The checkpoint folder: self-describing, written atomically, checked on load.

```
<run>/
  COMPLETE          written last; a folder without it is never loaded
  meta.json         format version, kind, created at, seed, threads, versions, git commit
  labels.json       the label list; index == output column
  config.yaml       the resolved config actually used
  manifest.json     the dataset manifest (fingerprint) it was trained on
  metrics.json      dev/test scores at training time
  calibration.json  the fitted temperature, ECE and log-loss before and after
  context.json      optional: the document-context layer fitted on dev (models/context.py)
  README.md         the model card
  model/            backend files (baseline.skops, or model.safetensors + tokenizer + config.json)
```
Loading reads only this folder, never `configs/` or `data/`.
"""

import contextlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from data.labels import LABELS, SCHEMA_VERSION, check_label_list

FORMAT_VERSION = 1
COMPLETE = "COMPLETE"
META = "meta.json"
LABELS_FILE = "labels.json"
CONFIG = "config.yaml"
MANIFEST = "manifest.json"
METRICS = "metrics.json"
CALIBRATION = "calibration.json"
CONTEXT = "context.json"
CARD = "README.md"
MODEL_DIR = "model"

# Files that can run code when loaded by common tools; a checkpoint holding one is refused
# before anything in it is opened.
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth", ".ckpt", ".npy")


class CheckpointError(ValueError):
    """A folder that is not a complete, compatible, safe parley checkpoint."""


def package_versions(
    names=(
        "parley",
        "numpy",
        "scikit-learn",
        "skops",
        "sentencex",
        "torch",
        "transformers",
        "safetensors",
        "datasets",
        "onnxruntime",
    ),
) -> dict:
    found = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _dump_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_checkpoint(
    out: Path,
    *,
    kind: str,
    save_model: Callable[[Path], None],
    config: dict,
    manifest: dict,
    metrics: dict,
    calibration: dict,
    card: str,
    context: dict | None = None,
    seed: int,
    threads: int | None,
    overwrite: bool = False,
) -> Path:
    """Write every file into a temp folder beside `out`, mark it complete, then rename."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise CheckpointError(f"{out} already exists; pass --overwrite to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        save_model(tmp / MODEL_DIR)
        _dump_json(tmp / LABELS_FILE, list(LABELS))
        (tmp / CONFIG).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        _dump_json(tmp / MANIFEST, manifest)
        _dump_json(tmp / METRICS, metrics)
        _dump_json(tmp / CALIBRATION, calibration)
        if context is not None:
            _dump_json(tmp / CONTEXT, context)
        (tmp / CARD).write_text(card, encoding="utf-8")
        _dump_json(
            tmp / META,
            {
                "format_version": FORMAT_VERSION,
                "kind": kind,
                "schema_version": SCHEMA_VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "seed": seed,
                "threads": threads,
                "versions": package_versions(),
                "git_commit": git_commit(),
            },
        )
        (tmp / COMPLETE).write_text("ok\n")
        _replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _replace(tmp: Path, out: Path) -> None:
    """Swap `tmp` into place; an old folder is moved aside first and removed only after."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def refuse_unsafe_files(folder: Path) -> None:
    unsafe = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.suffix.lower() in UNSAFE_SUFFIXES
    )
    if unsafe:
        raise CheckpointError(
            f"{folder}: refusing a checkpoint that holds files which can run "
            f"code when loaded: {', '.join(unsafe)}"
        )


def read_json(folder: Path, name: str):
    path = folder / name
    if not path.is_file():
        raise CheckpointError(f"{folder}: missing {name}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}: not valid JSON ({err.msg})") from None


def read_config(folder: Path) -> dict:
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{folder}: missing {CONFIG}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check_checkpoint(folder: str | Path) -> dict:
    """Validate a checkpoint folder before anything in it is loaded; return its meta."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: not a checkpoint folder")
    if not (folder / COMPLETE).is_file():
        raise CheckpointError(
            f"{folder}: incomplete checkpoint (no {COMPLETE} marker); "
            "it was interrupted while being written"
        )
    refuse_unsafe_files(folder)
    meta = read_json(folder, META)
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{folder}: checkpoint format {meta.get('format_version')!r}, "
            f"this parley reads format {FORMAT_VERSION}"
        )
    check_label_list(read_json(folder, LABELS_FILE), str(folder / LABELS_FILE))
    return meta
