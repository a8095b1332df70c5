"""The document-context layer: features, fitting, storage, and every path that reads it."""

import json

import numpy as np
import pytest

from data.labels import LABELS
from data.readers import ReaderError
from models import classify_article, load
from models.checkpoint import CheckpointError
from models.context import (
    ContextError,
    ContextLayer,
    check_positions,
    context_features,
    document_features,
    fit_context_layer,
    neighbour_rows,
)
from tests.conftest import write_tiny_config
from tests.test_models import TEXTS, fitted, save
from train.cli import main
from train.data_io import read_eval_rows, sentence_positions
from train.reports import compare_checkpoints, evaluate_checkpoint

K = len(LABELS)
THREAT = LABELS.index("threat")


def one_hot(labels: list[int], strength: float = 0.9) -> np.ndarray:
    probs = np.full((len(labels), K), (1 - strength) / (K - 1))
    probs[np.arange(len(labels)), labels] = strength
    return probs


def always(label: int, window: int = 1) -> ContextLayer:
    """A layer that makes every sentence with a neighbour `label`, whatever it reads."""
    intercept = np.full(K, -10.0)
    intercept[label] = 10.0
    return ContextLayer(window, np.zeros((K, K + 2 * window * (K + 1))), intercept)


def test_neighbours_follow_document_and_index_not_row_order():
    positions = [("b", 0), ("a", 2), ("a", 0), ("a", 1), ("b", 2)]
    rows = neighbour_rows(positions, window=1)
    assert rows.tolist() == [[-1, -1], [3, -1], [-1, 3], [2, 1], [-1, -1]]
    assert neighbour_rows(positions, window=2)[3].tolist() == [-1, 2, 1, -1]


def test_features_carry_own_log_probs_neighbour_probs_and_absence_flags():
    probs = one_hot([0, 1, 2])
    features = context_features(probs, neighbour_rows([("d", 0), ("d", 1), ("e", 0)], 1))
    assert features.shape == (3, K + 2 * (K + 1))
    assert np.allclose(features[1, :K], np.log(probs[1]))
    assert np.allclose(features[1, K : 2 * K], probs[0]) and features[1, 2 * K] == 0
    assert np.allclose(features[1, 2 * K + 1 : 3 * K + 1], 0) and features[1, -1] == 1
    assert features[2, 2 * K] == 1 and features[2, -1] == 1  # alone in its document


def test_document_features_give_place_length_and_the_rest_of_the_document():
    probs = one_hot([0, 1, 2, 3])
    # Rows out of reading order, one document with a gap in its indices, one alone.
    features = document_features(probs, [("d", 5), ("d", 0), ("e", 0), ("d", 2)])
    first, place, log_n, rest = features[:, 0], features[:, 1], features[:, 2], features[:, 3:]
    assert first.tolist() == [0, 1, 1, 0]
    assert place.tolist() == [1.0, 0.0, 0.0, 0.5]
    assert np.allclose(log_n, np.log([3, 3, 1, 3]))
    assert np.allclose(rest[0], (probs[1] + probs[3]) / 2)
    assert np.allclose(rest[2], 0)  # a document of one sentence has no other sentences


def test_document_features_let_the_layer_read_beyond_its_window():
    """Long documents of one label where every sentence but the first is uninformative: only
    the document's mean (not two neighbours) tells the label to the sentences far from the top."""
    rng = np.random.default_rng(3)

    def documents(n_docs):
        probs, positions, y = [], [], []
        for d in range(n_docs):
            label = int(rng.integers(K))
            for i in range(8):
                informative = i == 0 or i == 7
                probs.append(one_hot([label], 0.9)[0] if informative else np.full(K, 1 / K))
                positions.append((f"doc{d}", i))
                y.append(label)
        return np.array(probs), positions, np.array(y)

    probs, positions, y = documents(150)
    test_probs, test_positions, test_y = documents(60)
    middle = np.array([i % 8 in (3, 4) for i in range(len(test_y))])
    scores = {}
    for document in (False, True):
        layer = fit_context_layer(probs, positions, y, window=1, C=1.0, document=document)
        out = layer.apply(test_probs, test_positions)
        scores[document] = (out[middle].argmax(1) == test_y[middle]).mean()
    assert scores[True] > 0.95 and scores[False] < 0.5


def test_layers_saved_before_document_features_still_load():
    probs, positions, y = synthetic_documents(60, seed=4)
    fitted = fit_context_layer(probs, positions, y, window=1, C=1.0, document=False)
    old = fitted.to_dict()
    del old["document"]
    layer = ContextLayer.from_dict(old)
    assert layer.document is False
    assert np.allclose(layer.apply(probs, positions).sum(1), 1)
    assert np.array_equal(layer.apply(probs, positions), fitted.apply(probs, positions))
    with pytest.raises(ContextError, match="document features True"):
        ContextLayer.from_dict({**old, "document": True})
    with pytest.raises(ContextError, match="not true or false"):
        ContextLayer.from_dict({**old, "document": "yes"})


def test_bad_positions_are_named():
    with pytest.raises(ContextError, match="2 positions for 3 sentences"):
        check_positions([("a", 0), ("a", 1)], 3)
    with pytest.raises(ContextError, match="occurs twice"):
        check_positions([("a", 0), ("a", 0)], 2)
    with pytest.raises(ContextError, match="not \\(document id, sentence index\\)"):
        check_positions([("a", "0")], 1)


def synthetic_documents(n_docs: int, seed: int):
    """Documents of three sentences sharing one label; the middle sentence's own probabilities
    say nothing (uniform), so only its neighbours tell its label."""
    rng = np.random.default_rng(seed)
    probs, positions, y = [], [], []
    for d in range(n_docs):
        label = int(rng.integers(K))
        for i in range(3):
            probs.append(np.full(K, 1 / K) if i == 1 else one_hot([label], 0.7)[0])
            positions.append((f"doc{d}", i))
            y.append(label)
    return np.array(probs), positions, np.array(y)


def test_fitted_layer_learns_what_neighbours_say():
    probs, positions, y = synthetic_documents(200, seed=0)
    layer = fit_context_layer(probs, positions, y, window=1, C=1.0)
    test_probs, test_positions, test_y = synthetic_documents(100, seed=1)
    middle = np.arange(1, len(test_y), 3)
    in_context = layer.apply(test_probs, test_positions)
    assert (in_context[middle].argmax(1) == test_y[middle]).mean() > 0.95
    assert (test_probs[middle].argmax(1) == test_y[middle]).mean() < 0.4
    assert np.allclose(in_context.sum(1), 1)


def test_sentences_without_neighbours_keep_their_probabilities():
    probs = one_hot([0, 2, 4])
    out = always(THREAT).apply(probs, [("a", 0), ("b", 0), ("b", 1)])
    assert np.array_equal(out[0], probs[0])
    assert out[1].argmax() == THREAT and out[2].argmax() == THREAT
    assert always(THREAT).apply(np.zeros((0, K)), []).shape == (0, K)
    assert always(THREAT).apply(probs[:1], [("a", np.int64(3))]).tolist() == probs[:1].tolist()


def test_layer_round_trips_through_json_and_checks_labels_and_shapes():
    probs, positions, y = synthetic_documents(60, seed=2)
    layer = fit_context_layer(probs, positions, y, window=2, C=0.5)
    again = ContextLayer.from_dict(json.loads(json.dumps(layer.to_dict())))
    assert np.array_equal(again.apply(probs, positions), layer.apply(probs, positions))
    data = layer.to_dict()
    with pytest.raises(ContextError, match="differ from the schema"):
        ContextLayer.from_dict({**data, "labels": list(reversed(LABELS))})
    with pytest.raises(ContextError, match="do not fit window 1"):
        ContextLayer.from_dict({**data, "window": 1})


def test_label_absent_from_dev_is_never_predicted_in_context():
    labels = [0, 4] * 30
    positions = [(f"d{i // 2}", i % 2) for i in range(len(labels))]
    layer = fit_context_layer(one_hot(labels, 0.6), positions, np.array(labels), 1, 1.0)
    out = layer.apply(one_hot([THREAT, THREAT], 0.99), [("x", 0), ("x", 1)])
    assert set(out.argmax(1)) <= {0, 4}


def save_with_context(model, folder, layer: ContextLayer | None):
    return save(model, folder, context=layer.to_dict() if layer else None)


def test_checkpoint_stores_the_layer_and_predict_stays_sentence_by_sentence(tmp_path):
    model = fitted()
    path = save_with_context(model, tmp_path / "ck", always(THREAT))
    loaded = load(path)
    assert loaded.context is not None
    # predict(texts) reads sentences alone: the layer never touches it.
    assert np.array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    positions = [("doc", i) for i in range(len(TEXTS))]
    in_context = loaded.predict_in_context(TEXTS, positions)
    assert {p.label for p in in_context} == {"threat"}
    article = "Dock strike looms\nThe dockers agreed to review the case. Talks resume."
    assert {s.prediction.label for s in classify_article(loaded, article)} == {"threat"}
    # No layer: in context equals alone.
    plain = load(save_with_context(model, tmp_path / "plain", None))
    assert np.array_equal(
        plain.predict_proba_in_context(TEXTS, positions), plain.predict_proba(TEXTS)
    )


def test_empty_sentence_stays_at_chance_in_context(tmp_path):
    loaded = load(save_with_context(fitted(), tmp_path / "ck", always(THREAT)))
    out = loaded.predict_in_context(
        ["The union warned.", "  ", "Talks resume."], [("d", i) for i in range(3)]
    )
    assert out[1].label == "other" and "empty" in out[1].flags
    assert out[1].score == pytest.approx(1 / K)


def test_broken_context_file_is_a_checkpoint_error(tmp_path):
    path = save_with_context(fitted(), tmp_path / "ck", always(THREAT))
    data = json.loads((path / "context.json").read_text())
    (path / "context.json").write_text(json.dumps({**data, "coef": [[0.0]]}))
    with pytest.raises(CheckpointError, match="context.json"):
        load(path)


def test_eval_rows_take_index_from_the_file_or_from_order(tmp_path):
    data = tmp_path / "rows.jsonl"
    rows = [
        {"text": "B.", "label": "other", "doc_id": "d", "index": 1},
        {"text": "A.", "label": "claim", "doc_id": "d", "index": 0},
        {"text": "C.", "label": "claim", "doc_id": "e"},
        {"text": "D.", "label": "claim", "doc_id": "e"},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    read = read_eval_rows(data)
    assert sentence_positions(read) == [("d", 1), ("d", 0), ("e", 0), ("e", 1)]
    data.write_text(json.dumps({**rows[0], "index": "1"}) + "\n")
    with pytest.raises(ReaderError, match="index must be an integer"):
        read_eval_rows(data)
    clash = [{"doc_id": "d", "index": 0}, {"doc_id": "d", "index": 0}]
    assert sentence_positions(clash) is None


def test_evaluate_and_compare_read_context_and_report_the_alone_figure(tmp_path):
    model = fitted()
    with_layer = save_with_context(model, tmp_path / "ctx", always(THREAT))
    without = save_with_context(model, tmp_path / "plain", None)
    data = tmp_path / "rows.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"text": t, "label": "threat", "doc_id": f"d{i // 3}"})
            for i, t in enumerate(TEXTS)
        )
        + "\n"
    )
    metrics = evaluate_checkpoint(with_layer, data, report_dir=tmp_path / "rep")
    assert metrics["context"]["used"] and metrics["accuracy"] == 1.0
    report = (tmp_path / "rep" / "report.md").read_text()
    assert "each sentence read alone" in report and "after temperature and the context" in report
    assert metrics["context"]["accuracy_alone"] < 0.5
    result = compare_checkpoints([without, with_layer], data, n_boot=50)
    assert result["models"]["plain"]["context"]["used"] is False
    assert result["models"]["ctx"]["accuracy"] == 1.0
    assert result["differences"]["ctx - plain"]["macro_f1_difference"] > 0


def test_training_fits_the_layer_on_dev_and_scores_test_in_context(tiny_corpus, tmp_path, capsys):
    config = write_tiny_config(tiny_corpus, tmp_path, context={"window": 1, "C": 1.0})
    assert main(["train", str(config)]) == 0
    assert "test in context (window 1" in capsys.readouterr().out
    ckpt = tmp_path / "runs" / "tiny"
    metrics = json.loads((ckpt / "metrics.json").read_text())
    assert metrics["in_context"]["fitted_on"] == "dev"
    assert set(metrics["in_context"]) >= {"dev", "test"}
    assert load(ckpt).context.window == 1
    assert "## Document context" in (ckpt / "README.md").read_text()
