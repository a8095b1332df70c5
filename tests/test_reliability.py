"""Trying to break parley: huge and messy input, killed runs, tampered data, planted files."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from data.build import DatasetError
from data.readers import read_articles
from models import load
from models.base import MAX_INPUT_CHARS
from models.checkpoint import CheckpointError
from tests.conftest import REPO
from tests.test_properties import KeywordModel
from tests.tiny_models import checkpoint_tensors, tiny_transformer_config, tiny_transformer_setup
from train.config import parse_config
from train.fit import train

TEN_MB_SCRIPT = """
import resource, sys, time
import numpy as np
from models import classify_article
from models.base import Classifier

class ConstantModel(Classifier):  # costs nothing per sentence: parley's own work is measured
    kind = "test"
    def _logits(self, texts):
        return np.zeros((len(texts), 5))

article = ("The union said it would strike unless pay rose by 4 pct. " * 180_000)[:10_000_000]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
sentences = classify_article(ConstantModel(), article)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
longest = max(s.end - s.start for s in sentences)
print(len(sentences), longest, (peak - before) * 1024, seconds)
"""


def test_ten_megabyte_article_in_bounded_time_and_memory():
    out = subprocess.run(
        [sys.executable, "-c", TEN_MB_SCRIPT],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    n, longest, grown_bytes, seconds = out.stdout.split()
    assert int(n) > 150_000 and int(longest) <= 2_000
    assert int(grown_bytes) < 40 * 10_000_000  # linear in the input, no quadratic blow-up
    assert float(seconds) < 120  # bounded; the benchmark script measures real throughput


def test_long_sentence_is_capped_and_flagged():
    (pred,) = KeywordModel().predict(["word " * 10_000])
    assert "truncated" in pred.flags
    (short,) = KeywordModel().predict(["word " * (MAX_INPUT_CHARS // 5 - 1)])
    assert "truncated" not in short.flags


def test_reader_cleans_html_nul_and_control_characters(tmp_path):
    path = tmp_path / "a.jsonl"
    text = (
        "<p>Talks\x00 resume\x07 <b>today</b>.</p><script>evil()</script><p>Next\u200b para.</p>"
    )
    path.write_text(json.dumps({"id": "x", "title": "T<i>1</i>", "text": text}) + "\n")
    (art,) = read_articles(path)
    assert art.title == "T1"
    assert art.text == "Talks resume today.\nNext para."


def tiny_raw_config(tmp_path, **train) -> dict:
    corpus, bert = tiny_transformer_setup(tmp_path)
    return tiny_transformer_config(corpus, bert, tmp_path, **{"epochs": 4, "patience": 4, **train})


def test_killed_training_resumes_to_the_same_weights(tmp_path):
    raw = tiny_raw_config(tmp_path)
    config_path = tmp_path / "tiny.yaml"
    config_path.write_text(yaml.safe_dump(raw))
    uninterrupted = train(parse_config(raw), output=tmp_path / "full")

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "train.cli", "train", str(config_path), "--output", str(out)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = tmp_path / ".killed.work" / "epoch-002" / "DONE"
    deadline = time.time() + 120
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert marker.exists(), "the run ended or timed out before epoch 2 was saved"
    assert not out.exists()  # no half-written checkpoint

    code = subprocess.run(cmd + ["--resume"], cwd=REPO, capture_output=True, text=True)
    assert code.returncode == 0, code.stderr[-2000:]
    assert "resuming after epoch" in code.stderr
    a, b = checkpoint_tensors(uninterrupted), checkpoint_tensors(out)
    assert a.keys() == b.keys() and all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_training_refuses_a_tampered_dataset(tmp_path, tiny_corpus):
    raw = {
        "name": "b",
        "model": {"kind": "baseline", "hash_bits": 12},
        "data": {"sources": [str(tiny_corpus)], "output": str(tmp_path / "ds")},
    }
    train(parse_config(raw), output=tmp_path / "one")
    with open(tmp_path / "ds" / "train.jsonl", "a") as fh:
        fh.write(json.dumps({"text": "planted", "label": "threat", "doc_id": "z"}) + "\n")
    with pytest.raises(DatasetError, match=r"train.jsonl: contents no longer match"):
        train(parse_config(raw), output=tmp_path / "two")


def test_planted_bin_in_a_transformer_checkpoint_is_refused(tmp_path):
    raw = tiny_raw_config(tmp_path, epochs=1)
    path = train(parse_config(raw), output=tmp_path / "ck")
    marker = tmp_path / "owned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (path / "model" / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(CheckpointError, match="pytorch_model.bin"):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Le gouvernement a refusé de négocier avec les syndicats hier soir.", True),
        ("Москва пригрозила ответными мерами против Вашингтона.", True),
        ("El gobierno amenazo con nuevos aranceles si no hay acuerdo pronto.", True),
        ("Il governo ha minacciato nuovi dazi se non si raggiunge un accordo con la Cina.", True),
        ("Tariff talks resume Monday, officials say", False),
        ("Le gouvernement refuse toujours de negocier avec les syndicats depuis lundi.", True),
        ("BRAZIL ANTI-INFLATION PLAN LIMPS TO ANNIVERSARY", False),
        ("The ministry said it would answer any new duties in kind.", False),
        ("Oui.", False),  # too short to judge
    ],
)
def test_mostly_not_english_text_is_flagged(text, flagged):
    (pred,) = KeywordModel().predict([text])
    assert ("not_english" in pred.flags) is flagged
