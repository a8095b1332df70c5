"""Evaluate checkpoints on labelled data: the plain functions behind `parley evaluate`."""

from pathlib import Path

from models.base import softmax
from models.inference import load
from train.data_io import read_eval_rows
from train.evaluate import compute_metrics, encode_labels, reliability_bins, write_report


def evaluate_checkpoint(
    checkpoint: str | Path,
    data: str | Path,
    split: str = "test",
    report_dir: str | Path | None = None,
    n_boot: int = 1000,
) -> dict:
    """Metrics of a checkpoint on one labelled dataset; optionally a Markdown/PNG report.

    Never writes into the checkpoint (its training-time metrics stay as they were)."""
    classifier = load(checkpoint)
    rows = read_eval_rows(data, split)
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    docs = [r["doc_id"] for r in rows]
    logits = classifier.logits(texts)
    probs = classifier.predict_proba(texts)
    metrics = compute_metrics(labels, probs, docs, n_boot=n_boot)
    uncalibrated = compute_metrics(labels, softmax(logits), docs, n_boot=50)
    metrics["calibration"] = {
        "temperature": classifier.temperature,
        "ece_before": uncalibrated["ece"],
        "log_loss_before": uncalibrated["log_loss"],
    }
    metrics["checkpoint"] = str(checkpoint)
    metrics["data"] = str(data)
    if report_dir is not None:
        y = encode_labels(labels)
        write_report(
            metrics,
            Path(report_dir),
            f"{Path(checkpoint).name} on {Path(data).name}",
            uncalibrated=uncalibrated,
            reliability={
                "before": reliability_bins(softmax(logits), y),
                "after": reliability_bins(probs, y),
            },
        )
    return metrics


def evaluation_rows(metrics: dict) -> list[tuple[str, str]]:
    """Key figures as (name, value) pairs for printing."""
    lo, hi = metrics["macro_f1_ci95"]
    rows = [
        ("n", str(metrics["n"])),
        ("documents", str(metrics["documents"])),
        ("accuracy", f"{metrics['accuracy']:.4f}"),
        ("macro-F1", f"{metrics['macro_f1']:.4f}  (95% CI {lo:.4f}-{hi:.4f})"),
        ("ECE", f"{metrics['ece']:.4f}"),
        ("log-loss", f"{metrics['log_loss']:.4f}"),
    ]
    rows += [
        (
            f"F1 {lab}",
            f"{m['f1']:.4f}  (P {m['precision']:.3f}, R {m['recall']:.3f}, n {m['support']})",
        )
        for lab, m in metrics["per_label"].items()
    ]
    return rows
