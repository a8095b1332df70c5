"""TF-IDF (word and, optionally, character n-grams) + logistic regression, saved with skops."""

import zipfile
from pathlib import Path

import numpy as np

from data.labels import LABEL_TO_ID, LABELS
from models.base import Classifier

MODEL_FILE = "baseline.skops"

# The only types a baseline file may contain. skops refuses anything else, so a planted file
# cannot make loading run code. Kept in code, never read from the artifact.
TRUSTED_TYPES = [
    "builtins.dict",
    "builtins.list",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.HashingVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
]


def _hashed_tfidf(analyzer: str, ngrams: list[int], n_features: int):
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline

    # Hashing keeps no vocabulary: the saved model is a few arrays, fast to write and load,
    # instead of a dict of hundreds of thousands of n-grams.
    return Pipeline(
        [
            (
                "hash",
                HashingVectorizer(
                    analyzer=analyzer,
                    ngram_range=tuple(ngrams),
                    n_features=n_features,
                    alternate_sign=False,
                    norm=None,
                    lowercase=True,
                    dtype=np.float64,
                ),
            ),
            ("tfidf", TfidfTransformer(sublinear_tf=True)),
        ]
    )


def build_pipeline(params: dict):
    """The scikit-learn pipeline; `params` come from the config's `model` section."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    width = 2 ** params["hash_bits"]
    parts = [("word", _hashed_tfidf("word", params["word_ngrams"], width))]
    if params.get("char_ngrams"):
        parts.append(("char", _hashed_tfidf("char_wb", params["char_ngrams"], width)))
    features = FeatureUnion(parts)
    clf = LogisticRegression(
        C=params["C"],
        class_weight=params["class_weight"],
        max_iter=params["max_iter"],
        random_state=params.get("seed", 0),
    )
    return Pipeline([("features", features), ("clf", clf)])


class BaselineClassifier(Classifier):
    """scikit-learn estimator manners: configure in __init__, learn in fit, return self."""

    kind = "baseline"

    def __init__(self, params: dict, temperature: float = 1.0):
        self.params = dict(params)
        self.temperature = temperature
        self.pipeline_ = None

    def fit(self, texts: list[str], labels: list[str]) -> "BaselineClassifier":
        from data.text import normalize

        unknown = sorted(set(labels) - set(LABELS))
        if unknown:
            raise ValueError(f"labels not in the schema: {unknown}")
        self.pipeline_ = build_pipeline(self.params)
        self.pipeline_.fit([normalize(t) for t in texts], labels)
        return self

    def _logits(self, texts: list[str]) -> np.ndarray:
        if self.pipeline_ is None:
            raise RuntimeError("BaselineClassifier is not fitted")
        # Map the estimator's classes_ onto schema columns; a label never seen in training
        # keeps a column with (log) probability ~0.
        log_proba = self.pipeline_.predict_log_proba(texts)
        out = np.full((len(texts), len(LABELS)), -30.0)
        for j, cls in enumerate(self.pipeline_.classes_):
            out[:, LABEL_TO_ID[cls]] = log_proba[:, j]
        return out

    def save_model(self, folder: Path) -> None:
        import skops.io as sio

        folder.mkdir(parents=True, exist_ok=True)
        sio.dump(self.pipeline_, folder / MODEL_FILE, compression=zipfile.ZIP_DEFLATED)

    @classmethod
    def load_model(cls, folder: Path, params: dict, temperature: float) -> "BaselineClassifier":
        import skops.io as sio

        path = folder / MODEL_FILE
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ValueError(
                f"{path}: refusing to load types outside the trusted list: {sorted(untrusted)}"
            )
        model = cls(params, temperature)
        model.pipeline_ = sio.load(path, trusted=TRUSTED_TYPES)
        return model
