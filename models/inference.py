"""The public face of parley for other code: `load`, `predict`, `classify_article`."""

from dataclasses import asdict, dataclass
from pathlib import Path

from data.segment import segment_article
from models.base import Classifier, Prediction, check_texts
from models.checkpoint import (
    CALIBRATION,
    CONTEXT,
    MODEL_DIR,
    CheckpointError,
    check_checkpoint,
    read_config,
    read_json,
)
from models.context import ContextError, ContextLayer


def load(path: str | Path, backend: str | None = None, threads: int | None = None) -> Classifier:
    """Load a checkpoint folder written by `parley train`.

    `backend` picks the runtime for transformer checkpoints ("torch" or "onnx"); by default
    ONNX Runtime is used when the checkpoint has been exported, else torch. `threads` overrides
    the thread count the checkpoint was trained with (a transformer's inference threads)."""
    folder = Path(path)
    meta = check_checkpoint(folder)
    classifier = _load_classifier(folder, meta.get("kind"), backend, threads)
    classifier.context = _context_layer(folder)
    return classifier


def _load_classifier(folder: Path, kind, backend: str | None, threads: int | None) -> Classifier:
    temperature = float(read_json(folder, CALIBRATION).get("temperature", 1.0))
    config = read_config(folder)
    if kind == "baseline":
        if backend not in (None, "sklearn"):
            raise CheckpointError(f"{folder}: a baseline checkpoint has no {backend!r} backend")
        from models.baseline import BaselineClassifier

        return BaselineClassifier.load_model(folder / MODEL_DIR, config["model"], temperature)
    if kind == "transformer":
        from models.transformer import load_transformer

        return load_transformer(folder / MODEL_DIR, config, temperature, backend, threads)
    raise CheckpointError(f"{folder}: unknown model kind {kind!r} in meta.json")


def _context_layer(folder: Path) -> ContextLayer | None:
    """The checkpoint's document-context layer, if it was trained with one."""
    if not (folder / CONTEXT).is_file():
        return None
    try:
        return ContextLayer.from_dict(read_json(folder, CONTEXT))
    except (ContextError, KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{folder / CONTEXT}: {err}") from None


def predict(model: Classifier | str | Path, texts: list[str]) -> list[Prediction]:
    """Label sentences with a classifier or a checkpoint path."""
    classifier = model if isinstance(model, Classifier) else load(model)
    return classifier.predict(check_texts(texts))


@dataclass(frozen=True)
class ClassifiedSentence:
    """A sentence of an article, where it sits in the article, and what it was labelled."""

    index: int
    start: int
    end: int
    text: str
    prediction: Prediction

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(d.pop("prediction"))
        d["flags"] = list(d["flags"])
        return d


def classify_article(classifier: Classifier, text: str) -> list[ClassifiedSentence]:
    """Segment an article and label each sentence; offsets index into `text`."""
    if not isinstance(text, str):
        raise TypeError(f"classify_article expects the article as str, got {type(text).__name__}")
    sentences = segment_article(text)
    # One article: every sentence's neighbours are known, so the context layer (if any) reads them.
    predictions = classifier.predict_in_context(
        [s.text for s in sentences], [("article", s.index) for s in sentences]
    )
    return [
        ClassifiedSentence(s.index, s.start, s.end, s.text, p)
        for s, p in zip(sentences, predictions, strict=True)
    ]
