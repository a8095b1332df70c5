"""`parley export`: ONNX fp32 + int8 for a transformer checkpoint, kept only with parity."""

import json
import os
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from data.build import read_split, verify_dataset
from models.checkpoint import (
    MANIFEST,
    MODEL_DIR,
    CheckpointError,
    check_checkpoint,
    read_config,
    read_json,
)
from models.onnx_backend import INT8, export_onnx

MAX_F1_DROP = 0.01  # int8 may lose at most 1.0 macro-F1 point against torch on dev
MIN_AGREEMENT = 0.99  # and must give the same label to at least 99% of dev sentences


def _dev_rows(folder: Path, data_dir: str | Path | None) -> list[dict]:
    """The dev split the checkpoint was trained with (its fingerprint must match)."""
    config = read_config(folder)
    data_dir = Path(data_dir or config["data"]["output"])
    manifest = verify_dataset(data_dir)
    trained_on = read_json(folder, MANIFEST)["fingerprint"]
    if manifest["fingerprint"] != trained_on:
        raise CheckpointError(
            f"{data_dir}: dataset fingerprint differs from the one "
            f"{folder} was trained on; pass --data with the right dataset"
        )
    return read_split(data_dir, "dev")


def export_checkpoint(checkpoint: str | Path, data_dir: str | Path | None = None) -> dict:
    """Export, compare int8 against torch on dev, and drop the int8 model unless it holds up."""
    from models.onnx_backend import OnnxClassifier
    from models.transformer import load_transformer

    folder = Path(checkpoint)
    meta = check_checkpoint(folder)
    if meta["kind"] != "transformer":
        raise CheckpointError(f"{folder}: only transformer checkpoints can be exported")
    rows = _dev_rows(folder, data_dir)
    onnx_dir = export_onnx(folder / MODEL_DIR)
    config = read_config(folder)
    temperature = float(read_json(folder, "calibration.json").get("temperature", 1.0))
    texts = [r["text"] for r in rows]
    gold = [r["label"] for r in rows]
    torch_model = load_transformer(folder / MODEL_DIR, config, temperature, backend="torch")
    int8_model = OnnxClassifier.from_folder(
        folder / MODEL_DIR, config["model"]["max_length"], config.get("threads"), temperature
    )
    torch_labels = [p.label for p in torch_model.predict(texts)]
    int8_labels = [p.label for p in int8_model.predict(texts)]
    torch_f1 = float(f1_score(gold, torch_labels, average="macro"))
    int8_f1 = float(f1_score(gold, int8_labels, average="macro"))
    agreement = float(np.mean([a == b for a, b in zip(torch_labels, int8_labels, strict=True)]))
    kept = torch_f1 - int8_f1 <= MAX_F1_DROP and agreement >= MIN_AGREEMENT
    if not kept:
        os.remove(onnx_dir / INT8)  # fp32 ONNX stays: it is exact, only slower
    parity = {
        "dev_sentences": len(rows),
        "torch_macro_f1": torch_f1,
        "int8_macro_f1": int8_f1,
        "macro_f1_drop": torch_f1 - int8_f1,
        "label_agreement": agreement,
        "int8_kept": kept,
        "limits": {"max_macro_f1_drop": MAX_F1_DROP, "min_label_agreement": MIN_AGREEMENT},
    }
    (onnx_dir / "parity.json").write_text(json.dumps(parity, indent=2) + "\n")
    return parity
