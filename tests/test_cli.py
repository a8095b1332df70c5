"""The CLI end to end on a temp folder: build-data, train, evaluate, predict, compare."""

import json

import pytest

from tests.conftest import write_tiny_config
from train.cli import main


@pytest.fixture
def config_file(tiny_corpus, tmp_path):
    return write_tiny_config(tiny_corpus, tmp_path)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_end_to_end(config_file, tmp_path, capsys):
    code, out, _ = run(capsys, "build-data", config_file)
    assert code == 0 and "fingerprint" in out and "train" in out

    code, out, _ = run(capsys, "train", config_file)
    ckpt = tmp_path / "runs" / "tiny"
    assert code == 0 and str(ckpt) in out and (ckpt / "COMPLETE").is_file()
    assert (ckpt / "README.md").read_text().startswith("# parley model: tiny")
    training_metrics = (ckpt / "metrics.json").read_text()

    code, _, err = run(capsys, "train", config_file)
    assert code == 2 and "already exists" in err

    code, out, _ = run(
        capsys, "evaluate", ckpt, tmp_path / "ds", "--json", "--report", tmp_path / "rep"
    )
    metrics = json.loads(out)
    assert code == 0
    assert {"macro_f1", "accuracy", "per_label", "confusion", "n"} <= set(metrics)
    assert (tmp_path / "rep" / "ds" / "confusion.png").is_file()
    assert (tmp_path / "rep" / "ds" / "report.md").is_file()
    assert (ckpt / "metrics.json").read_text() == training_metrics  # never overwritten

    sentences = tmp_path / "s.txt"
    sentences.write_text("The union warned it would strike.\n\nTalks resume Monday.\n")
    code, out, _ = run(capsys, "predict", ckpt, sentences)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["text"] for r in lines] == [
        "The union warned it would strike.",
        "Talks resume Monday.",
    ]
    assert all(abs(sum(r["scores"].values()) - 1) < 1e-9 for r in lines)

    code, out, _ = run(capsys, "predict", ckpt, sentences, "--article")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["index"] for r in rows] == [0, 1]
    assert rows[0]["start"] == 0 and rows[0]["label"]

    articles = tmp_path / "articles.jsonl"
    articles.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"n{i}",
                    "title": f"Port talks {i}",
                    "text": "The dockers warned they would strike. "
                    f"Talks resume on day {i}. The authority agreed "
                    "to review the case.",
                }
            )
            for i in range(4)
        )
        + "\n"
    )
    code, out, _ = run(
        capsys,
        "suggest",
        ckpt,
        articles,
        "--n",
        "5",
        "--format",
        "doccano",
        "--output",
        tmp_path / "next.jsonl",
    )
    suggested = [json.loads(line) for line in (tmp_path / "next.jsonl").read_text().splitlines()]
    assert code == 0 and len(suggested) == 5 and all("model_label" in t for t in suggested)

    code, out, _ = run(
        capsys,
        "annotations",
        "export",
        tmp_path / "ds" / "dev.jsonl",
        "--format",
        "prodigy",
        "--output",
        tmp_path / "tasks.jsonl",
        "--checkpoint",
        ckpt,
    )
    tasks = [json.loads(line) for line in (tmp_path / "tasks.jsonl").read_text().splitlines()]
    answered = tmp_path / "answers.jsonl"
    answered.write_text("\n".join(json.dumps({**t, "answer": "accept"}) for t in tasks) + "\n")
    code, out, _ = run(
        capsys,
        "annotations",
        "import",
        answered,
        "--format",
        "prodigy",
        "--output",
        tmp_path / "back.jsonl",
    )
    back = [json.loads(line) for line in (tmp_path / "back.jsonl").read_text().splitlines()]
    dev = [json.loads(line) for line in (tmp_path / "ds" / "dev.jsonl").read_text().splitlines()]
    assert code == 0
    assert [(r["text"], r["label"]) for r in back] == [(r["text"], r["label"]) for r in dev]

    code, out, _ = run(
        capsys,
        "weak-label",
        articles,
        "--config",
        config_file,
        "--output",
        tmp_path / "silver.jsonl",
    )
    assert code == 0 and "threat_cue" in out and "majority vote" in out
    silver = [json.loads(line) for line in (tmp_path / "silver.jsonl").read_text().splitlines()]
    assert {"text", "label"} <= set(silver[0])

    code, out, _ = run(
        capsys, "compare", ckpt, ckpt, "--data", tmp_path / "ds", "--report", tmp_path / "cmp"
    )
    assert code == 0 and "macro-F1" in out
    assert (tmp_path / "cmp" / "comparison.md").is_file()


def test_cli_reports_config_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: {kind: baseline, Cee: 1}\n")
    code, _, err = run(capsys, "train", bad)
    assert code == 2 and "model.Cee" in err


def test_corpus_stats_json(capsys):
    code, out, _ = run(capsys, "corpus-stats", "--json")
    stats = json.loads(out)
    assert code == 0
    assert {"articles", "sentences", "labels", "domains", "genres"} <= set(stats)
