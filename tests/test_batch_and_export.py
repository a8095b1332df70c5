"""Streaming batch prediction (resume, bad lines) and ONNX export with int8 parity."""

import json

import numpy as np
import pytest

from models import load
from models.batch_predict import predict_articles_file
from tests.test_properties import KeywordModel


def write_archive(path, n=30, bad_line_at=None):
    lines = []
    for i in range(n):
        lines.append(
            json.dumps(
                {
                    "id": f"a{i}",
                    "title": f"Talks {i}",
                    "text": f"The union warned it would strike. Talks resume {i}.",
                }
            )
        )
    if bad_line_at is not None:
        lines.insert(bad_line_at, '{"id": "broken", "text": ')
    path.write_text("\n".join(lines) + "\n")


def read_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_stream_writes_one_line_per_sentence_and_reports_bad_lines(tmp_path):
    archive, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_archive(archive, bad_line_at=5)
    stats = predict_articles_file(KeywordModel(), archive, out, batch_sentences=7)
    rows = read_rows(out)
    assert stats.articles == 30 and len(rows) == 30 * 3 == stats.sentences
    assert stats.bad_lines == [f"{archive}:6: not valid JSON (Expecting value)"]
    first = rows[0]
    assert {"article", "index", "start", "end", "label", "score", "scores"} <= set(first)
    assert first["article"] == "a0" and first["index"] == 0 and first["text"] == "Talks 0"


def test_interrupted_run_resumes_without_duplicates(tmp_path):
    archive, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_archive(archive)
    predict_articles_file(KeywordModel(), archive, tmp_path / "full.jsonl")
    predict_articles_file(KeywordModel(), archive, out)
    # simulate a kill mid-write: keep 40 whole lines and half of the next one
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:40]) + lines[40][:25])
    stats = predict_articles_file(KeywordModel(), archive, out)
    assert out.read_text() == (tmp_path / "full.jsonl").read_text()
    assert stats.skipped_done == 13  # articles a0..a12 were complete; a13 was redone


@pytest.fixture
def tiny_checkpoint(tmp_path):
    from tests.tiny_models import tiny_transformer_config, tiny_transformer_setup
    from train.config import parse_config
    from train.fit import train

    corpus, bert = tiny_transformer_setup(tmp_path)
    return train(
        parse_config(tiny_transformer_config(corpus, bert, tmp_path, epochs=20)),
        output=tmp_path / "ck",
    )


def test_export_writes_onnx_checks_parity_and_load_prefers_it(tiny_checkpoint, tmp_path):
    pytest.importorskip("onnxruntime")
    from train.export import export_checkpoint

    parity = export_checkpoint(tiny_checkpoint)
    onnx_dir = tiny_checkpoint / "model" / "onnx"
    assert (onnx_dir / "model.onnx").is_file()
    assert json.loads((onnx_dir / "parity.json").read_text()) == parity
    assert parity["int8_kept"] == (onnx_dir / "model.int8.onnx").is_file()
    assert parity["int8_kept"] == (
        parity["macro_f1_drop"] <= 0.01 and parity["label_agreement"] >= 0.99
    )
    texts = ["The union warned it would strike.", "Talks resume Monday in Geneva."]
    onnx_model = load(tiny_checkpoint)
    assert onnx_model.backend == "onnx"
    torch_model = load(tiny_checkpoint, backend="torch")
    fp32 = load(tiny_checkpoint, backend="onnx")
    if parity["int8_kept"]:
        (onnx_dir / "model.int8.onnx").unlink()
        fp32 = load(tiny_checkpoint, backend="onnx")
    assert fp32.model_file == "model.onnx"
    assert np.allclose(fp32.predict_proba(texts), torch_model.predict_proba(texts), atol=1e-4)


@pytest.mark.slow
def test_inference_benchmark_measures_every_runtime(tiny_checkpoint, tmp_path):
    """The benchmark script end to end on tiny models: every stage timed, ratios computed,
    int8 measured even when export refused to keep it."""
    import subprocess
    import sys

    from tests.conftest import REPO
    from train.config import parse_config
    from train.export import export_checkpoint
    from train.fit import train

    pytest.importorskip("onnxruntime")
    export_checkpoint(tiny_checkpoint)
    baseline = train(
        parse_config(
            {
                "name": "b",
                "model": {"kind": "baseline", "hash_bits": 12},
                "data": {"sources": [str(tmp_path / "corpus")], "output": str(tmp_path / "ds")},
            }
        ),
        output=tmp_path / "base",
    )
    archive, report = tmp_path / "articles.jsonl", tmp_path / "bench.json"
    write_archive(archive, n=20)
    cmd = [sys.executable, "bench/inference.py", "--baseline", str(baseline), "--transformer",
           str(tiny_checkpoint), "--articles", str(archive), "--sentences", "30",
           "--articles-n", "5", "--threads", "1", "--output", str(report)]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(report.read_text())
    stages = {r["stage"]: r for r in result["results"]}
    assert set(stages) == {
        "baseline", "torch", "onnx-fp32", "onnx-int8", "hf-pipeline", "classify-article"
    }  # fmt: skip
    assert all(r["per_second"] > 0 and r["peak_rss_mb"] > 0 for r in stages.values())
    assert stages["baseline"]["n"] == 30 and stages["classify-article"]["n"] == 5
    assert "int8_kept" in stages["onnx-int8"]
    ratio = stages["onnx-int8"]["per_second"] / stages["hf-pipeline"]["per_second"]
    assert result["ratios"]["onnx-int8 / hf-pipeline"] == pytest.approx(ratio)
