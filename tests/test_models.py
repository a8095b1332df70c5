import json
import pickle

import numpy as np
import pytest

from data.labels import LABELS
from models import classify_article, load, predict
from models.baseline import BaselineClassifier
from models.checkpoint import CheckpointError, write_checkpoint
from tests.conftest import TINY_ARTICLES
from train.config import BaselineModel

SENTENCES = [(lab, text) for lines in TINY_ARTICLES.values() for lab, text in lines]
TEXTS = [t for _, t in SENTENCES]
LABELS_ = [lab for lab, _ in SENTENCES]


def fitted(labels=LABELS_, texts=TEXTS) -> BaselineClassifier:
    params = {**BaselineModel(kind="baseline", C=100.0, hash_bits=12).model_dump(), "seed": 0}
    return BaselineClassifier(params).fit(texts, labels)


def save(model, folder, temperature=1.0, context: dict | None = None):
    model.temperature = temperature
    return write_checkpoint(
        folder,
        kind="baseline",
        save_model=model.save_model,
        config={"model": model.params},
        manifest={"fingerprint": "x"},
        metrics={},
        calibration={"temperature": temperature},
        card="# test\n",
        seed=0,
        threads=1,
        context=context,
    )


def test_overfit_then_roundtrip_gives_identical_probabilities(tmp_path):
    model = fitted()
    assert [p.label for p in model.predict(TEXTS)] == LABELS_
    path = save(model, tmp_path / "ck")
    loaded = load(path)
    assert np.array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert json.loads((path / "labels.json").read_text()) == list(LABELS)


def test_prediction_has_all_labels_in_schema_order_summing_to_one():
    (pred,) = fitted().predict(["The union warned of a strike."])
    assert list(pred.scores) == list(LABELS)
    assert pred.score == max(pred.scores.values()) and pred.label in LABELS
    assert sum(pred.scores.values()) == pytest.approx(1.0)


def test_label_missing_from_training_still_gets_a_column():
    keep = [i for i, lab in enumerate(LABELS_) if lab != "concession"]
    model = fitted([LABELS_[i] for i in keep], [TEXTS[i] for i in keep])
    probs = model.predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 5)
    assert np.all(probs[:, LABELS.index("concession")] < 1e-6)


def test_bare_string_and_non_string_items_are_type_errors():
    model = fitted()
    with pytest.raises(TypeError, match="single string"):
        model.predict("Beijing vowed to retaliate.")
    with pytest.raises(TypeError, match="item 1 is int"):
        model.predict(["fine", 3])


def test_empty_sentence_is_flagged_other_at_chance():
    (pred,) = fitted().predict(["  \u200b "])
    assert pred.label == "other" and pred.flags == ("empty",)
    assert pred.score == pytest.approx(0.2)


def test_temperature_is_applied_and_saved(tmp_path):
    model = fitted()
    sharp = model.predict_proba(TEXTS).max(1)
    path = save(model, tmp_path / "ck", temperature=3.0)
    soft = load(path).predict_proba(TEXTS).max(1)
    assert np.all(soft < sharp)


def test_predict_accepts_a_path(tmp_path):
    path = save(fitted(), tmp_path / "ck")
    assert predict(path, ["The minister urged both sides to return."])[0].label in LABELS


def test_classify_article_offsets(tmp_path):
    model = fitted()
    article = (
        "Dock strike looms\nThe dockers warned they would block every terminal. Talks resume."
    )
    out = classify_article(model, article)
    assert [s.index for s in out] == [0, 1, 2]
    for s in out:
        assert article[s.start : s.end] == s.text
    assert out[1].to_dict()["label"] in LABELS


def test_refuses_overwrite_incomplete_and_wrong_label_order(tmp_path):
    path = save(fitted(), tmp_path / "ck")
    with pytest.raises(CheckpointError, match="already exists"):
        save(fitted(), path)
    (path / "labels.json").write_text(json.dumps(list(reversed(LABELS))))
    with pytest.raises(ValueError, match="does not match schema"):
        load(path)
    (path / "COMPLETE").unlink()
    with pytest.raises(CheckpointError, match="incomplete checkpoint"):
        load(path)


def test_planted_pickle_is_refused_and_never_run(tmp_path):
    path = save(fitted(), tmp_path / "ck")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (path / "model" / "extra.bin").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError, match="extra.bin"):
        load(path)
    assert not marker.exists()
