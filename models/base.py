"""What every classifier returns and promises, whatever its backend."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from data.labels import LABELS
from data.quality import is_mostly_not_english
from data.text import normalize
from models.context import ContextLayer, Position

# Flags a prediction can carry; documented in the README.
EMPTY = "empty"  # nothing left after normalisation: labelled `other`, score 1/len(LABELS) each
TRUNCATED = "truncated"  # longer than MAX_INPUT_CHARS: only the first part was read
OUT_OF_DOMAIN = "not_english"  # mostly not English text: the label is unreliable

# Sentences are capped before tokenising, so a 10 MB "sentence" (scraped text without
# punctuation) costs what a long sentence costs. Longer sentences are flagged `truncated`.
MAX_INPUT_CHARS = 2_000


@dataclass(frozen=True)
class Prediction:
    """One sentence's label, its probability, and the probability of every schema label."""

    label: str
    score: float
    scores: dict[str, float]
    flags: tuple[str, ...] = field(default=())


def check_texts(texts: object) -> list[str]:
    """A list (or other sequence) of str; a bare str or a non-str item is a TypeError."""
    if isinstance(texts, str | bytes):
        raise TypeError("expected a list of sentences, got a single string; wrap it in a list")
    if not isinstance(texts, Sequence):
        raise TypeError(f"expected a list of sentences, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"item {i} is {type(text).__name__}, not str")
    return list(texts)


def prepare(text: str) -> str:
    """What a model reads: the normalised text, capped at MAX_INPUT_CHARS. Normalising first
    makes predict(raw) == predict(normalize(raw)) exact, also for capped texts."""
    return normalize(text)[:MAX_INPUT_CHARS]


def input_flags(normalized: str) -> tuple[str, ...]:
    if not normalized:
        return (EMPTY,)
    flags = []
    if len(normalized) > MAX_INPUT_CHARS:
        flags.append(TRUNCATED)
    if is_mostly_not_english(normalized[:MAX_INPUT_CHARS]):
        flags.append(OUT_OF_DOMAIN)
    return tuple(flags)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def at_chance_where_empty(probs: np.ndarray, clean: list[str]) -> np.ndarray:
    """`probs` with every row of an empty (normalised) text set to 1/len(LABELS), in place."""
    probs[[i for i, t in enumerate(clean) if not t]] = 1.0 / len(LABELS)
    return probs


def to_predictions(probs: np.ndarray, flags: list[tuple[str, ...]]) -> list[Prediction]:
    # Whole-array argmax and one conversion to Python floats: a per-row numpy loop costs more
    # than the baseline model itself.
    best = probs.argmax(axis=1).tolist() if len(probs) else []
    out = []
    for row, b, row_flags in zip(probs.tolist(), best, flags, strict=True):
        scores = dict(zip(LABELS, row, strict=True))
        out.append(Prediction(LABELS[b], row[b], scores, row_flags))
    return out


class Classifier:
    """Shared behaviour: input checks, normalisation, temperature, and Prediction objects.

    Subclasses implement `_logits(texts) -> (n, len(LABELS))` on normalised, non-empty text, in
    schema order. `temperature` divides the logits (1.0 = uncalibrated); `context`, when set,
    re-scores sentences whose document neighbours are given (`predict_in_context`)."""

    kind = "abstract"
    temperature: float = 1.0
    context: ContextLayer | None = None  # re-scores sentences with their neighbours

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    def _logits(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _raw_logits(self, clean: list[str]) -> np.ndarray:
        out = np.zeros((len(clean), len(LABELS)), dtype=np.float64)
        keep = [i for i, t in enumerate(clean) if t]
        if keep:
            out[keep] = self._logits([clean[i] for i in keep])
        return out

    def _calibrated(self, clean: list[str]) -> np.ndarray:
        return self._to_proba(self._raw_logits(clean), clean)

    def _to_proba(self, logits: np.ndarray, clean: list[str]) -> np.ndarray:
        return at_chance_where_empty(softmax(logits / self.temperature), clean)

    def proba_from_logits(self, logits: np.ndarray, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities from `logits()` of the same texts, without running the
        model again (evaluation needs both)."""
        return self._to_proba(logits, [prepare(t) for t in check_texts(texts)])

    def logits(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated logits, one row per text (all zeros for an empty text)."""
        return self._raw_logits([prepare(t) for t in check_texts(texts)])

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in LABELS order."""
        return self._calibrated([prepare(t) for t in check_texts(texts)])

    def predict_proba_in_context(self, texts: list[str], positions: list[Position]) -> np.ndarray:
        """Calibrated probabilities of sentences whose place in their documents is known:
        `positions[i]` is (document id, sentence index) of `texts[i]`. With a context layer
        (`context.json`), sentences with a neighbour present are re-scored; else this equals
        `predict_proba`."""
        clean = [prepare(t) for t in check_texts(texts)]
        return self._in_context(self._calibrated(clean), clean, positions)

    def context_proba(
        self, probs: np.ndarray, texts: list[str], positions: list[Position] | None
    ) -> np.ndarray:
        """`probs` (calibrated, of `texts`) re-scored by the context layer; returned unchanged
        when there is no layer or no positions."""
        return self._in_context(probs, [prepare(t) for t in check_texts(texts)], positions)

    def _in_context(
        self, probs: np.ndarray, clean: list[str], positions: list[Position] | None
    ) -> np.ndarray:
        if self.context is None or positions is None:
            return probs
        # An empty sentence stays at chance level whatever its neighbours say.
        return at_chance_where_empty(self.context.apply(probs, positions), clean)

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Each sentence labelled on its own."""
        return self._predict(texts, None)

    def predict_in_context(self, texts: list[str], positions: list[Position]) -> list[Prediction]:
        """Sentences of documents labelled with their neighbours (`predict_proba_in_context`)."""
        return self._predict(texts, positions)

    def _predict(self, texts: list[str], positions: list[Position] | None) -> list[Prediction]:
        normalized = [normalize(t) for t in check_texts(texts)]
        clean = [t[:MAX_INPUT_CHARS] for t in normalized]
        probs = self._in_context(self._calibrated(clean), clean, positions)
        preds = to_predictions(probs, [input_flags(t) for t in normalized])
        # An empty sentence is never a confident act: it is `other` at chance level, flagged.
        return [
            Prediction("other", p.score, p.scores, p.flags) if EMPTY in p.flags else p
            for p in preds
        ]
