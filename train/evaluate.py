"""Metrics with honest intervals, calibration, and readable reports."""

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
)

from data.labels import LABEL_TO_ID, LABELS

N_BOOTSTRAP = 1000
ECE_BINS = 15


def macro_f1_from_confusion(conf: np.ndarray) -> np.ndarray:
    """Macro-F1 of one or many confusion matrices (..., k, k); rows true, columns predicted.

    A label with no true and no predicted sentence scores 0, as sklearn's zero_division=0."""
    tp = np.diagonal(conf, axis1=-2, axis2=-1)
    fp = conf.sum(axis=-2) - tp
    fn = conf.sum(axis=-1) - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(denom.shape, dtype=float), where=denom > 0)
    return f1.mean(axis=-1)


def per_document_confusions(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """One confusion matrix per group (document): shape (n_groups, k, k)."""
    k = len(LABELS)
    _, g = np.unique(groups, return_inverse=True)
    flat = g * k * k + y_true * k + y_pred
    counts = np.bincount(flat, minlength=(g.max() + 1) * k * k)
    return counts.reshape(-1, k, k)


def bootstrap_weights(n_groups: int, n_boot: int, seed: int) -> np.ndarray:
    """How often each group is drawn in each resample: shape (n_boot, n_groups)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    return np.stack([np.bincount(d, minlength=n_groups) for d in draws])


def bootstrap_macro_f1(y_true, y_pred, groups, n_boot=N_BOOTSTRAP, seed=0) -> np.ndarray:
    """Macro-F1 of `n_boot` resamples of whole documents (sentences when groups are unique)."""
    per_doc = per_document_confusions(y_true, y_pred, groups)
    weights = bootstrap_weights(len(per_doc), n_boot, seed)
    return macro_f1_from_confusion(np.tensordot(weights, per_doc, axes=(1, 0)))


def interval(samples: np.ndarray, level: float = 0.95) -> list[float]:
    lo, hi = np.quantile(samples, [(1 - level) / 2, 1 - (1 - level) / 2])
    return [float(lo), float(hi)]


def expected_calibration_error(
    probs: np.ndarray, y_true: np.ndarray, bins: int = ECE_BINS
) -> float:
    """ECE of the top-label confidence over equal-width bins."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def reliability_bins(probs: np.ndarray, y_true: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return [
        {
            "lo": float(edges[b]),
            "hi": float(edges[b + 1]),
            "n": int((which == b).sum()),
            "accuracy": float(correct[which == b].mean()) if (which == b).any() else None,
            "confidence": float(confidence[which == b].mean()) if (which == b).any() else None,
        }
        for b in range(bins)
    ]


def encode_labels(labels: list[str]) -> np.ndarray:
    return np.array([LABEL_TO_ID[lab] for lab in labels], dtype=np.int64)


def compute_metrics(
    labels: list[str],
    probs: np.ndarray,
    doc_ids: list[str] | None = None,
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict:
    """Accuracy, macro-F1 with a 95% document-bootstrap interval, per-label scores, the
    confusion matrix (rows true, columns predicted, LABELS order), ECE and log-loss."""
    y_true = encode_labels(labels)
    y_pred = probs.argmax(axis=1)
    ids = list(range(len(LABELS)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=ids, zero_division=0
    )
    groups = np.array(doc_ids if doc_ids is not None else np.arange(len(labels)))
    boot = bootstrap_macro_f1(y_true, y_pred, groups, n_boot, seed)
    clipped = np.clip(probs, 1e-12, 1.0)
    return {
        "n": len(labels),
        "documents": len(np.unique(groups)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=ids, average="macro", zero_division=0)),
        "macro_f1_ci95": interval(boot),
        "bootstrap": {"resamples": n_boot, "unit": "document" if doc_ids else "sentence"},
        "per_label": {
            lab: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, lab in enumerate(LABELS)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=ids).tolist(),
        "ece": expected_calibration_error(probs, y_true),
        "log_loss": float(log_loss(y_true, clipped / clipped.sum(1, keepdims=True), labels=ids)),
    }


def fit_temperature(logits: np.ndarray, labels: list[str]) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    y = encode_labels(labels)

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(y)), y].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


# ---- reports ----


def _plot_confusion(conf: list[list[int]], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conf = np.array(conf)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    ax.imshow(conf, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=30)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            ax.text(
                j,
                i,
                conf[i, j],
                ha="center",
                va="center",
                color="white" if conf[i, j] > conf.max() / 2 else "black",
            )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_reliability(curves: dict[str, list[dict]], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for name, bins in curves.items():
        pts = [(b["confidence"], b["accuracy"]) for b in bins if b["n"] > 0]
        ax.plot(*zip(*pts, strict=True), marker="o", label=name)
    ax.set_xlabel("confidence (top label)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def metrics_table(metrics: dict) -> str:
    rows = ["| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for lab, m in metrics["per_label"].items():
        rows.append(
            f"| {lab} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} "
            f"| {m['support']} |"
        )
    return "\n".join(rows)


def confusion_table(conf: list[list[int]]) -> str:
    rows = ["| true \\ predicted | " + " | ".join(LABELS) + " |", "|---|" + "---:|" * len(LABELS)]
    rows += [
        f"| {lab} | " + " | ".join(str(x) for x in conf[i]) + " |" for i, lab in enumerate(LABELS)
    ]
    return "\n".join(rows)


def summary_line(metrics: dict) -> str:
    lo, hi = metrics["macro_f1_ci95"]
    return (
        f"macro-F1 {metrics['macro_f1']:.3f} [95% CI {lo:.3f}-{hi:.3f}], accuracy "
        f"{metrics['accuracy']:.3f}, ECE {metrics['ece']:.3f}, n={metrics['n']} "
        f"({metrics['documents']} documents)"
    )


def context_line(context: dict) -> str:
    """What an evaluation's `context` summary says, in one line."""
    if not context["used"]:
        return f"not used ({context['why']})"
    document = ""
    if context.get("document"):
        document = ", the sentence's place and its document's other sentences"
    return (
        f"neighbours within {context['window']} sentences{document} (each sentence read alone: "
        f"macro-F1 {context['macro_f1_alone']:.4f}, accuracy {context['accuracy_alone']:.4f})"
    )


def write_report(
    metrics: dict,
    out_dir: Path,
    title: str,
    uncalibrated: dict | None = None,
    reliability: dict | None = None,
) -> Path:
    """Markdown report with the confusion matrix and reliability diagram as PNGs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot_confusion(metrics["confusion"], title, out_dir / "confusion.png")
    context = metrics.get("context") or {}
    after = "after temperature" + (" and the context layer" if context.get("used") else "")
    lines = [
        f"# {title}",
        "",
        summary_line(metrics),
        "",
    ]
    if context.get("used"):
        lines += [f"Sentences read in their documents: {context_line(context)}.", ""]
    lines += [
        metrics_table(metrics),
        "",
        "## Confusion matrix",
        "",
        confusion_table(metrics["confusion"]),
        "",
        "![confusion matrix](confusion.png)",
        "",
    ]
    if reliability:
        _plot_reliability(reliability, f"Reliability: {title}", out_dir / "reliability.png")
        lines += ["## Calibration", ""]
        if uncalibrated:
            lines += [
                f"- before temperature: ECE {uncalibrated['ece']:.4f}, log-loss "
                f"{uncalibrated['log_loss']:.4f}"
            ]
        lines += [
            f"- {after}: ECE {metrics['ece']:.4f}, log-loss {metrics['log_loss']:.4f}",
            "",
            "![reliability diagram](reliability.png)",
            "",
        ]
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
