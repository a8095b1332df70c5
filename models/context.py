"""Document context: each sentence re-scored with the probabilities of its neighbours.

A sentence's move often depends on the sentences around it: a quotation continues its speaker's
demand, the closing lines of a readout are procedure, a sentence between two threats is rarely
background. The classifiers read one sentence at a time. This layer, a multinomial logistic
regression fitted on the dev split after the temperature (never on test), reads a sentence's
calibrated log-probabilities together with the calibrated probabilities of the sentences up to
`window` places before and after it in the same document; with `document` on, also where the
sentence sits (first sentence or not, relative place, the document's length in sentences) and
the mean probabilities of the document's other sentences, so a lede, a sign-off or an article
full of threats reads as such.

A sentence read alone (no neighbour known: `predict(texts)`, or a document of one sentence)
keeps the classifier's own probabilities, so context only ever adds information.
The layer is plain numbers (no pickles) and is stored in the checkpoint as `context.json`.
"""

import numbers
from dataclasses import dataclass

import numpy as np

from data.labels import LABELS

# (document id, sentence index within the document): where a sentence sits.
Position = tuple[str, int]

# Probabilities are clipped before the log so a hard zero (an empty sentence) stays finite.
_MIN_PROB = 1e-6


class ContextError(ValueError):
    """A context layer or position list that does not fit the probabilities given."""


def check_positions(positions: list[Position], n: int) -> list[Position]:
    if len(positions) != n:
        raise ContextError(f"{len(positions)} positions for {n} sentences")
    seen = set()
    for i, pos in enumerate(positions):
        index = pos[1] if isinstance(pos, tuple) and len(pos) == 2 else None
        if not isinstance(index, numbers.Integral) or isinstance(index, bool):
            raise ContextError(f"position {i} is {pos!r}, not (document id, sentence index)")
        if pos in seen:
            raise ContextError(f"position {pos!r} occurs twice")
        seen.add(pos)
    return positions


def neighbour_rows(positions: list[Position], window: int) -> np.ndarray:
    """(n, 2 * window) row numbers of each sentence's neighbours at offsets -window..-1,
    1..window; -1 where that neighbour is not among the rows."""
    where = {pos: row for row, pos in enumerate(positions)}
    offsets = [k for k in range(-window, window + 1) if k]
    return np.array(
        [[where.get((doc, index + k), -1) for k in offsets] for doc, index in positions],
        dtype=np.int64,
    ).reshape(len(positions), len(offsets))


def context_features(probs: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """The layer's input: own log-probabilities, then per neighbour offset its probabilities
    (zeros when absent) and a 1/0 flag for absence."""
    parts = [np.log(np.clip(probs, _MIN_PROB, 1.0))]
    for column in neighbours.T:
        missing = column < 0
        neighbour = np.where(missing[:, None], 0.0, probs[np.maximum(column, 0)])
        parts += [neighbour, missing[:, None].astype(np.float64)]
    return np.concatenate(parts, axis=1)


# Per sentence: first in its document (1/0), relative place (0 first .. 1 last), log of the
# document's sentence count, then the mean probabilities of the document's other sentences.
DOCUMENT_FEATURES = 3 + len(LABELS)


def document_features(probs: np.ndarray, positions: list[Position]) -> np.ndarray:
    """Where each sentence sits among its document's sentences present in `positions`, and what
    the rest of that document says (zeros for a document of one sentence)."""
    members: dict[str, list[tuple[int, int]]] = {}
    for row, (doc, index) in enumerate(positions):
        members.setdefault(doc, []).append((int(index), row))
    out = np.zeros((len(positions), DOCUMENT_FEATURES))
    for rows in members.values():
        order = [row for _, row in sorted(rows)]
        n = len(order)
        total = probs[order].sum(axis=0)
        for rank, row in enumerate(order):
            out[row, :3] = (rank == 0, rank / max(n - 1, 1), np.log(n))
            if n > 1:
                out[row, 3:] = (total - probs[row]) / (n - 1)
    return out


def layer_inputs(
    probs: np.ndarray, positions: list[Position], window: int, document: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Everything the layer reads (neighbour features, then document features when on), and
    which rows have a neighbour within the window: only those are ever re-scored."""
    probs = np.asarray(probs, dtype=np.float64)
    check_positions(positions, len(probs))
    neighbours = neighbour_rows(positions, window)
    features = context_features(probs, neighbours)
    if document:
        features = np.concatenate([features, document_features(probs, positions)], axis=1)
    return features, (neighbours >= 0).any(axis=1)


@dataclass(frozen=True)
class ContextLayer:
    window: int
    coef: np.ndarray  # (len(LABELS), n_features)
    intercept: np.ndarray  # (len(LABELS),)
    document: bool = False  # False for layers saved before document features existed

    @property
    def n_features(self) -> int:
        neighbours = len(LABELS) + 2 * self.window * (len(LABELS) + 1)
        return neighbours + (DOCUMENT_FEATURES if self.document else 0)

    def apply(self, probs: np.ndarray, positions: list[Position]) -> np.ndarray:
        """Probabilities in context; rows with no neighbour among `positions` are returned
        unchanged."""
        out = np.array(probs, dtype=np.float64)
        features, with_context = layer_inputs(out, positions, self.window, self.document)
        if with_context.any():
            scores = features[with_context] @ self.coef.T
            scores += self.intercept
            scores -= scores.max(axis=1, keepdims=True)
            exp = np.exp(scores)
            out[with_context] = exp / exp.sum(axis=1, keepdims=True)
        return out

    def to_dict(self) -> dict:
        return {
            "labels": list(LABELS),
            "window": self.window,
            "document": self.document,
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ContextLayer":
        if data.get("labels") != list(LABELS):
            raise ContextError(
                f"context layer labels {data.get('labels')} differ from the schema {list(LABELS)}"
            )
        document = data.get("document", False)
        if not isinstance(document, bool):
            raise ContextError(f"context layer 'document' is {document!r}, not true or false")
        layer = cls(
            int(data["window"]),
            np.asarray(data["coef"], dtype=np.float64),
            np.asarray(data["intercept"], dtype=np.float64),
            document,
        )
        if layer.coef.shape != (len(LABELS), layer.n_features) or layer.intercept.shape != (
            len(LABELS),
        ):
            raise ContextError(
                f"context layer shapes {layer.coef.shape}, {layer.intercept.shape} do not fit "
                f"window {layer.window}, document features {layer.document} and "
                f"{len(LABELS)} labels"
            )
        return layer


def fit_context_layer(
    probs: np.ndarray,
    positions: list[Position],
    y: np.ndarray,
    window: int,
    C: float,
    document: bool = True,
) -> ContextLayer:
    """Fit on held-out (dev) probabilities; only sentences with a neighbour are used, as only
    they are ever re-scored."""
    from sklearn.linear_model import LogisticRegression

    features, use = layer_inputs(probs, positions, window, document)
    present = set(np.asarray(y)[use].tolist())
    if len(present) < 2:
        raise ContextError("fitting a context layer needs sentences of two labels or more")
    model = LogisticRegression(C=C, max_iter=5000)
    model.fit(features[use], np.asarray(y)[use])
    weights, biases = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        # sklearn keeps one row for two classes (score z for the second); softmax over
        # (-z/2, +z/2) gives the same probabilities.
        weights = np.vstack([-weights[0] / 2, weights[0] / 2])
        biases = np.array([-biases[0] / 2, biases[0] / 2])
    coef = np.zeros((len(LABELS), weights.shape[1]))
    intercept = np.full(len(LABELS), -1e3)  # a label absent from dev is never predicted
    coef[model.classes_] = weights
    intercept[model.classes_] = biases
    return ContextLayer(window, coef, intercept, document)
