import numpy as np
import pytest

from data.labels import LABELS
from train.evaluate import (
    bootstrap_macro_f1,
    compute_metrics,
    encode_labels,
    expected_calibration_error,
    fit_temperature,
    macro_f1_from_confusion,
)


def one_hot(labels, confidence=0.9):
    probs = np.full((len(labels), 5), (1 - confidence) / 4)
    probs[np.arange(len(labels)), encode_labels(labels)] = confidence
    return probs


def test_metrics_against_a_hand_computed_example():
    gold = ["claim", "claim", "threat", "demand", "other", "other"]
    pred = ["claim", "other", "threat", "claim", "other", "other"]
    m = compute_metrics(gold, one_hot(pred), n_boot=50)
    # claim: P 1/2 R 1/2 F1 .5; threat: 1; demand: 0; concession: 0 (absent); other: P 2/3 R 1
    # F1 .8. Macro over the five labels = (0.5 + 1 + 0 + 0 + 0.8) / 5 = 0.46.
    assert m["macro_f1"] == pytest.approx(0.46)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_label"]["other"]["precision"] == pytest.approx(2 / 3)
    assert m["per_label"]["claim"]["support"] == 2
    assert m["confusion"][0] == [1, 0, 0, 0, 1]
    assert m["n"] == 6 and set(m["per_label"]) == set(LABELS)


def test_confusion_macro_f1_matches_sklearn_definition():
    conf = np.array([[1, 0, 0, 0, 1], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0] * 5, [0, 0, 0, 0, 2]])
    assert macro_f1_from_confusion(conf) == pytest.approx(0.46)


def test_document_bootstrap_interval_brackets_the_estimate():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 5, 400)
    pred = np.where(rng.random(400) < 0.7, gold, rng.integers(0, 5, 400))
    docs = np.repeat(np.arange(40), 10)
    samples = bootstrap_macro_f1(gold, pred, docs, n_boot=300, seed=1)
    point = macro_f1_from_confusion(np.bincount(gold * 5 + pred, minlength=25).reshape(5, 5))
    lo, hi = np.quantile(samples, [0.025, 0.975])
    assert lo < point < hi and hi - lo < 0.2
    again = bootstrap_macro_f1(gold, pred, docs, n_boot=300, seed=1)
    assert np.array_equal(samples, again)


def test_ece_of_perfectly_and_badly_calibrated_predictions():
    gold = ["claim"] * 10
    assert expected_calibration_error(one_hot(gold, 1.0), encode_labels(gold)) == pytest.approx(0)
    wrong = ["threat"] * 10
    assert expected_calibration_error(one_hot(wrong, 0.9), encode_labels(gold)) == pytest.approx(
        0.9
    )


def test_temperature_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 500)
    logits = rng.normal(size=(500, 5))
    logits[np.arange(500), y] += 1.0
    logits *= 6  # far too confident
    t = fit_temperature(logits, [LABELS[i] for i in y])
    assert 3 < t < 12
