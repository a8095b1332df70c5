"""Evaluate checkpoints on labelled data: the plain functions behind `parley evaluate`."""

import json
from pathlib import Path

import numpy as np

from data.labels import LABELS
from models.base import softmax
from models.inference import load
from train.data_io import read_eval_rows, sentence_positions
from train.evaluate import (
    bootstrap_weights,
    compute_metrics,
    context_line,
    encode_labels,
    interval,
    macro_f1_from_confusion,
    per_document_confusions,
    reliability_bins,
    write_report,
)


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
    positions = sentence_positions(rows)
    logits = classifier.logits(texts)
    alone = classifier.proba_from_logits(logits, texts)
    probs = classifier.context_proba(alone, texts, positions)
    metrics = compute_metrics(labels, probs, docs, n_boot=n_boot)
    uncalibrated = compute_metrics(labels, softmax(logits), docs, n_boot=50)
    metrics["calibration"] = {
        "temperature": classifier.temperature,
        "ece_before": uncalibrated["ece"],
        "log_loss_before": uncalibrated["log_loss"],
    }
    metrics["context"] = context_summary(classifier, positions, labels, alone, docs)
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


def context_summary(classifier, positions, labels, alone: np.ndarray, docs) -> dict:
    """Whether the scores above read document context, and the sentence-alone figures."""
    if classifier.context is None:
        return {"used": False, "why": "the checkpoint has no context layer"}
    if positions is None:
        return {"used": False, "why": "rows share (doc_id, index): neighbours unknown"}
    without = compute_metrics(labels, alone, docs, n_boot=50)
    return {
        "used": True,
        "window": classifier.context.window,
        "document": classifier.context.document,
        "macro_f1_alone": without["macro_f1"],
        "accuracy_alone": without["accuracy"],
    }


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
        ("context", context_line(metrics["context"])),
    ]
    rows += [
        (
            f"F1 {lab}",
            f"{m['f1']:.4f}  (P {m['precision']:.3f}, R {m['recall']:.3f}, n {m['support']})",
        )
        for lab, m in metrics["per_label"].items()
    ]
    return rows


def compare_checkpoints(
    checkpoints: list[str | Path],
    data: str | Path,
    split: str = "test",
    report_dir: str | Path | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Checkpoints side by side on the same data, with a paired document bootstrap of every
    macro-F1 difference against the first checkpoint."""
    rows = read_eval_rows(data, split)
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    docs = np.array([r["doc_id"] for r in rows])
    y = encode_labels(labels)
    names = [Path(c).name for c in checkpoints]
    if len(set(names)) != len(names):
        names = [str(c) for c in checkpoints]
    positions = sentence_positions(rows)
    classifiers = {n: load(c) for n, c in zip(names, checkpoints, strict=True)}
    alone = {n: c.predict_proba(texts) for n, c in classifiers.items()}
    probs = {n: c.context_proba(alone[n], texts, positions) for n, c in classifiers.items()}
    metrics = {
        n: compute_metrics(labels, p, list(docs), n_boot=n_boot, seed=seed)
        for n, p in probs.items()
    }
    for n, c in classifiers.items():
        metrics[n]["context"] = context_summary(c, positions, labels, alone[n], list(docs))
    weights = bootstrap_weights(len(np.unique(docs)), n_boot, seed)  # shared: paired resamples
    boot = {
        n: macro_f1_from_confusion(
            np.tensordot(weights, per_document_confusions(y, p.argmax(1), docs), axes=(1, 0))
        )
        for n, p in probs.items()
    }
    reference = names[0]
    differences = {}
    for n in names[1:]:
        diff = boot[n] - boot[reference]
        differences[f"{n} - {reference}"] = {
            "macro_f1_difference": metrics[n]["macro_f1"] - metrics[reference]["macro_f1"],
            "ci95": interval(diff),
            "share_of_resamples_not_better": float((diff <= 0).mean()),
        }
    predicted = {n: p.argmax(1) for n, p in probs.items()}
    disagreements = [
        {
            "doc_id": rows[i]["doc_id"],
            "text": texts[i],
            "gold": labels[i],
            **{n: LABELS[predicted[n][i]] for n in names},
        }
        for i in range(len(rows))
        if len({int(predicted[n][i]) for n in names}) > 1
    ]
    result = {
        "data": str(data),
        "n": len(rows),
        "documents": int(len(np.unique(docs))),
        "models": metrics,
        "differences": differences,
        "disagreements": disagreements,
    }
    if report_dir is not None:
        write_comparison_report(result, Path(report_dir))
    return result


def comparison_table(result: dict) -> str:
    names = list(result["models"])
    header = "| | " + " | ".join(names) + " |"
    lines = [header, "|---|" + "---:|" * len(names)]
    ci = [result["models"][n]["macro_f1_ci95"] for n in names]
    lines.append(
        "| macro-F1 [95% CI] | "
        + " | ".join(
            f"{result['models'][n]['macro_f1']:.3f} [{lo:.3f}-{hi:.3f}]"
            for n, (lo, hi) in zip(names, ci, strict=True)
        )
        + " |"
    )
    lines.append(
        "| accuracy | "
        + " | ".join(f"{result['models'][n]['accuracy']:.3f}" for n in names)
        + " |"
    )
    lines.append(
        "| ECE | " + " | ".join(f"{result['models'][n]['ece']:.3f}" for n in names) + " |"
    )
    lines.append(
        "| macro-F1, each sentence alone | "
        + " | ".join(_alone_cell(result["models"][n]) for n in names)
        + " |"
    )
    for lab in LABELS:
        lines.append(
            f"| F1 {lab} | "
            + " | ".join(f"{result['models'][n]['per_label'][lab]['f1']:.3f}" for n in names)
            + " |"
        )
    return "\n".join(lines)


def _alone_cell(metrics: dict) -> str:
    context = metrics.get("context") or {}
    return f"{context['macro_f1_alone']:.3f}" if context.get("used") else "(same: no context)"


def write_comparison_report(result: dict, out_dir: Path) -> Path:
    from train.evaluate import _plot_confusion, confusion_table

    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Comparison on {result['data']}",
        "",
        f"{result['n']} sentences, {result['documents']} documents.",
        "Scores read document context where a checkpoint has a context layer (the probabilities",
        "of neighbouring sentences and, where the layer reads them, the sentence's place and the",
        "rest of its document; see models/context.py); the row below gives each model's",
        "macro-F1 with every sentence read alone.",
        "",
        comparison_table(result),
        "",
        "## Paired bootstrap (resampling documents)",
        "",
    ]
    for name, d in result["differences"].items():
        lo, hi = d["ci95"]
        lines.append(
            f"- {name}: {d['macro_f1_difference']:+.4f} macro-F1, 95% CI [{lo:+.4f}, {hi:+.4f}]"
        )
    for i, (name, m) in enumerate(result["models"].items()):
        png = f"confusion-{i}.png"
        _plot_confusion(m["confusion"], name, out_dir / png)
        lines += [
            "",
            f"## Confusion matrix: {name}",
            "",
            confusion_table(m["confusion"]),
            "",
            f"![{name}]({png})",
        ]
    names = list(result["models"])
    lines += [
        "",
        f"## Sentences where the models disagree ({len(result['disagreements'])})",
        "",
        "| gold | " + " | ".join(names) + " | sentence |",
        "|---|" + "---|" * len(names) + "---|",
    ]
    for d in result["disagreements"][:300]:
        text = d["text"].replace("|", "\\|")
        lines.append(f"| {d['gold']} | " + " | ".join(d[n] for n in names) + f" | {text} |")
    path = out_dir / "comparison.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out_dir / "comparison.json").write_text(json.dumps(result, indent=2) + "\n")
    return path
