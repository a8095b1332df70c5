"""The transformer path on a tiny BERT built in the test (a few thousand parameters)."""

import json
from functools import partial

import numpy as np
import pytest

from data.labels import LABELS
from models import load
from tests.tiny_models import (
    checkpoint_tensors,
    freeze_lower_layer,
    tiny_transformer_config,
    tiny_transformer_setup,
)
from train.config import parse_config
from train.fit import train
from train.reports import compare_checkpoints

pytest.importorskip("torch")


@pytest.fixture
def tiny_setup(tmp_path):
    corpus, bert = tiny_transformer_setup(tmp_path)
    return corpus, bert, tmp_path


def tiny_config(corpus, bert, tmp_path, pooling="mean", **train):
    raw = tiny_transformer_config(corpus, bert, tmp_path, **train)
    raw["model"]["pooling"] = pooling
    return parse_config(raw)


def test_tiny_model_size(tiny_setup):
    from transformers import AutoModelForSequenceClassification

    _, bert, _ = tiny_setup
    model = AutoModelForSequenceClassification.from_pretrained(bert, local_files_only=True)
    assert sum(p.numel() for p in model.parameters()) < 20_000


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_overfit_save_load_roundtrip(tiny_setup, pooling):
    corpus, bert, tmp = tiny_setup
    path = train(tiny_config(corpus, bert, tmp, pooling), output=tmp / "ck")
    files = {p.name for p in (path / "model").iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= files
    assert ("head.safetensors" in files) is (pooling == "mean")
    config = json.loads((path / "model" / "config.json").read_text())
    assert config.get("parley_pooling", "cls") == pooling
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


@pytest.mark.parametrize("frozen_below", [False, True], ids=["all-layers", "cached-lower-layer"])
def test_resume_reaches_the_same_weights(tmp_path, monkeypatch, frozen_below):
    import train.loop as loop

    tmp = tmp_path
    corpus, bert = tiny_transformer_setup(tmp, layers=2 if frozen_below else 1)
    raw = tiny_transformer_config(corpus, bert, tmp, epochs=4, patience=4)
    config = parse_config(freeze_lower_layer(raw) if frozen_below else raw)
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
    a, b = checkpoint_tensors(full), checkpoint_tensors(resumed)
    assert a.keys() == b.keys() and "head.weight" in a
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_mean_pooling_ignores_padding(tiny_setup):
    """A sentence gets the same logits alone and padded in a batch with a longer one."""
    import torch

    from models.transformer import load_encoder

    _, bert, _ = tiny_setup
    model, tokenizer = load_encoder(bert, dropout=0.0, pooling="mean")
    model.eval()
    short, long = "seoul agreed .", "the union demanded a raise and seoul agreed to talks ."
    with torch.inference_mode():
        alone = model(**tokenizer([short], return_tensors="pt")).logits
        padded = model(**tokenizer([short, long], padding=True, return_tensors="pt")).logits
    assert tokenizer([short, long], padding=True)["attention_mask"][0][-1] == 0
    assert torch.allclose(alone[0], padded[0], atol=1e-5)
    assert not torch.allclose(padded[0], padded[1])


def test_cached_lower_layers_give_the_same_logits(tmp_path):
    """Training runs frozen lower layers once and the layers above on their cached states:
    that path must compute what the whole encoder computes, padding included."""
    import torch

    from models.transformer import load_encoder
    from train.loop import cached_inputs, lower_layer_states

    _, bert = tiny_transformer_setup(tmp_path, layers=2)
    model, tokenizer = load_encoder(bert, dropout=0.0, pooling="mean")
    texts = ["seoul agreed .", "the union demanded a raise and seoul agreed to talks ."]
    ids = tokenizer(texts)["input_ids"]
    states = lower_layer_states(model, tokenizer, ids, 1, batch_size=2)
    assert [len(s) for s in states] == [len(x) for x in ids]
    model.eval()
    with torch.inference_mode():
        whole = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
        upper = model(**cached_inputs(states, "cpu", from_layer=1)).logits
    assert torch.allclose(whole, upper, atol=1e-6)
    # The per-epoch dev scoring on cached states equals scoring the token ids.
    from models.transformer import TransformerClassifier

    classifier = TransformerClassifier(model, tokenizer, 32, 2)
    by_ids = classifier.logits_from_ids(ids)
    by_states = classifier.logits_from_inputs(states, partial(cached_inputs, from_layer=1))
    assert np.allclose(by_states, by_ids, atol=1e-6)


def test_frozen_lower_layers_stay_fixed_and_the_rest_learns(tmp_path):
    corpus, bert = tiny_transformer_setup(tmp_path, layers=2)
    raw = freeze_lower_layer(tiny_transformer_config(corpus, bert, tmp_path, epochs=40))
    path = train(parse_config(raw), output=tmp_path / "ck")
    history = json.loads((path / "metrics.json").read_text())["training"]["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 2
    before = checkpoint_tensors_of_base(bert)
    after = checkpoint_tensors(path)
    lower = [k for k in after if ".layer.0." in k or "embeddings" in k]
    upper = [k for k in after if ".layer.1." in k]
    assert lower and upper
    assert all(np.array_equal(after[k].numpy(), before[k].numpy()) for k in lower)
    assert not all(np.array_equal(after[k].numpy(), before[k].numpy()) for k in upper)


def checkpoint_tensors_of_base(bert):
    """The base encoder's tensors under the names a saved mean-pooling encoder uses."""
    from safetensors.torch import load_file

    return {k.removeprefix("bert."): v for k, v in load_file(bert / "model.safetensors").items()}


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
