"""The transformer path on a tiny BERT built in the test (a few thousand parameters)."""

import json

import numpy as np
import pytest

from data.labels import LABELS
from models import load
from tests.tiny_models import tiny_transformer_config, tiny_transformer_setup
from train.config import parse_config
from train.fit import train
from train.reports import compare_checkpoints

pytest.importorskip("torch")


@pytest.fixture
def tiny_setup(tmp_path):
    corpus, bert = tiny_transformer_setup(tmp_path)
    return corpus, bert, tmp_path


def tiny_config(corpus, bert, tmp_path, **train):
    return parse_config(tiny_transformer_config(corpus, bert, tmp_path, **train))


def test_tiny_model_size(tiny_setup):
    from transformers import AutoModelForSequenceClassification

    _, bert, _ = tiny_setup
    model = AutoModelForSequenceClassification.from_pretrained(bert, local_files_only=True)
    assert sum(p.numel() for p in model.parameters()) < 20_000


def test_overfit_save_load_roundtrip(tiny_setup):
    corpus, bert, tmp = tiny_setup
    path = train(tiny_config(corpus, bert, tmp), output=tmp / "ck")
    files = {p.name for p in (path / "model").iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= files
    config = json.loads((path / "model" / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(5)] == list(LABELS)
    metrics = json.loads((path / "metrics.json").read_text())
    history = metrics["training"]["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 2  # it learned
    rows = [json.loads(line) for line in (tmp / "ds" / "train.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in rows]
    model = load(path)
    assert model.kind == "transformer"
    accuracy = np.mean(
        [p.label == r["label"] for p, r in zip(model.predict(texts), rows, strict=True)]
    )
    assert accuracy > 0.9  # overfits its training set
    again = load(path)
    assert np.array_equal(again.predict_proba(texts), model.predict_proba(texts))
    calibration = json.loads((path / "calibration.json").read_text())
    assert calibration["temperature"] == pytest.approx(model.temperature)
    assert {"ece_before", "ece_after"} <= set(calibration["dev"])


def test_resume_reaches_the_same_weights(tiny_setup, monkeypatch):
    from safetensors.torch import load_file

    import train.loop as loop

    corpus, bert, tmp = tiny_setup
    config = tiny_config(corpus, bert, tmp, epochs=4, patience=4)
    full = train(config, output=tmp / "full")

    real_save = loop._save_state

    def interrupted_after_epoch_2(work, epoch, *args, **kwargs):
        real_save(work, epoch, *args, **kwargs)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_save_state", interrupted_after_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train(config, output=tmp / "resumed")
    assert not (tmp / "resumed").exists()  # nothing half-written
    monkeypatch.setattr(loop, "_save_state", real_save)
    resumed = train(config, output=tmp / "resumed", resume=True)
    a = load_file(full / "model" / "model.safetensors")
    b = load_file(resumed / "model" / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_compare_baseline_and_transformer(tiny_setup):
    corpus, bert, tmp = tiny_setup
    ck = train(tiny_config(corpus, bert, tmp, epochs=3), output=tmp / "tf")
    base = train(
        parse_config(
            {
                "name": "b",
                "model": {"kind": "baseline", "hash_bits": 12},
                "data": {"sources": [str(corpus)], "output": str(tmp / "ds")},
            }
        ),
        output=tmp / "base",
    )
    result = compare_checkpoints([base, ck], tmp / "ds", report_dir=tmp / "cmp", n_boot=200)
    (name,) = result["differences"]
    lo, hi = result["differences"][name]["ci95"]
    assert lo <= result["differences"][name]["macro_f1_difference"] <= hi
    assert (tmp / "cmp" / "comparison.md").read_text().count("## Confusion matrix") == 2
