"""Weak supervision: how the labeling functions behave, and silver labels by majority vote."""

import numpy as np

from data.labels import LABELS
from data.weak_labels import LABELING_FUNCTIONS, majority_label, votes


def vote_matrix(texts: list[str], functions=LABELING_FUNCTIONS) -> np.ndarray:
    """(n_sentences, n_functions) of label ids, -1 where a function abstains."""
    out = np.full((len(texts), len(functions)), -1, dtype=np.int64)
    for i, text in enumerate(texts):
        for j, vote in enumerate(votes(text, functions)):
            if vote is not None:
                out[i, j] = LABELS.index(vote)
    return out


def function_report(
    texts: list[str], gold: list[str] | None = None, functions=LABELING_FUNCTIONS
) -> dict:
    """Coverage, overlap and conflict of each function on `texts`; accuracy when gold given.

    overlap: share of sentences where it fires together with another function;
    conflict: share where another function that fires votes a different label."""
    matrix = vote_matrix(texts, functions)
    fired = matrix >= 0
    y = np.array([LABELS.index(g) for g in gold]) if gold is not None else None
    report = {}
    for j, lf in enumerate(functions):
        mine = fired[:, j]
        others = np.delete(fired, j, axis=1)
        other_votes = np.delete(matrix, j, axis=1)
        disagree = (others & (other_votes != matrix[:, [j]])).any(axis=1)
        row = {
            "label": lf.label,
            "coverage": float(mine.mean()),
            "overlap": float((mine & others.any(axis=1)).mean()),
            "conflict": float((mine & disagree).mean()),
        }
        if y is not None:
            row["accuracy"] = float((matrix[mine, j] == y[mine]).mean()) if mine.any() else None
            row["fires_on"] = int(mine.sum())
        report[lf.name] = row
    silver = [majority_label([LABELS[v] if v >= 0 else None for v in r]) for r in matrix]
    covered = np.array([s is not None for s in silver])
    summary = {"sentences": len(texts), "majority_coverage": float(covered.mean())}
    if y is not None and covered.any():
        summary["majority_accuracy"] = float(
            np.mean(
                [LABELS.index(s) == t for s, t in zip(silver, y, strict=True) if s is not None]
            )
        )
    return {"functions": report, "summary": summary}


def silver_rows(rows: list[dict]) -> list[dict]:
    """Rows labelled by majority vote; sentences where every function abstains are dropped."""
    out = []
    for row in rows:
        label = majority_label(votes(row["text"]))
        if label is not None:
            out.append({**row, "label": label, "source": "silver"})
    return out
