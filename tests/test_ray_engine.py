"""Ray Data paths: the same rows as the single-process paths, on a local Ray instance.

A tiny transformer checkpoint (trained here, a few thousand parameters) labels a small archive
through both engines; a predictor that fails once shows that Ray's retry neither drops nor
duplicates rows."""

import json
import os
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from data.pool import build_sentence_pool, read_pool  # noqa: E402
from data.ray_engine import archive_files, start_ray  # noqa: E402
from models.batch_predict import predict_articles_file  # noqa: E402
from models.inference import load  # noqa: E402
from models.ray_predict import OUTPUT_COLUMNS, SentencePredictor, predict_archive_ray  # noqa: E402
from train.cli import main  # noqa: E402

TEXTS = [
    "The union warned it would strike unless wages rose. Talks resume Monday in Geneva.",
    "Beijing agreed to cut tariffs on soybeans. The ministry said exports grew.",
    "Washington demanded the release of the hostages. The envoy arrived on Tuesday.",
]


@pytest.fixture(scope="module")
def local_ray():
    import ray.cloudpickle

    # Pytest imports this file under a name Ray's workers cannot import; classes defined here
    # (the failing predictor) are therefore sent to them by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    start_ray(workers=2)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    from tests.tiny_models import tiny_transformer_config, tiny_transformer_setup
    from train.config import parse_config
    from train.fit import train

    tmp = tmp_path_factory.mktemp("ray-ck")
    corpus, bert = tiny_transformer_setup(tmp)
    return train(parse_config(tiny_transformer_config(corpus, bert, tmp, epochs=3)), tmp / "ck")


def write_archive(path: Path, n: int = 24, bad_line_at: int | None = None) -> Path:
    lines = [
        json.dumps({"id": f"doc{i}", "title": f"Talks {i}", "text": TEXTS[i % 3]})
        for i in range(n)
    ]
    if bad_line_at is not None:
        lines.insert(bad_line_at, '{"id": "broken", "text": ')
    path.write_text("\n".join(lines) + "\n")
    return path


def parquet_rows(folder: Path) -> list[dict]:
    import pyarrow.dataset as pds

    rows = pds.dataset(folder, format="parquet").to_table().to_pylist()
    return sorted(rows, key=lambda r: (r["article"], r["index"]))


def jsonl_rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return sorted(rows, key=lambda r: (r["article"], r["index"]))


def assert_same_rows(ray_rows: list[dict], local_rows: list[dict]) -> None:
    assert len(ray_rows) == len(local_rows)
    for got, want in zip(ray_rows, local_rows, strict=True):
        assert list(got) == list(OUTPUT_COLUMNS)
        for column in ("article", "index", "start", "end", "text", "label", "flags"):
            assert got[column] == want[column], column
        assert got["score"] == pytest.approx(want["score"], abs=1e-6)
        assert got["scores"] == pytest.approx(want["scores"], abs=1e-6)


def test_cli_ray_prediction_equals_single_process(local_ray, tiny_checkpoint, tmp_path, capsys):
    archive = write_archive(tmp_path / "in.jsonl", bad_line_at=7)
    local_out = tmp_path / "local.jsonl"
    predict_articles_file(load(tiny_checkpoint), archive, local_out, batch_sentences=10)
    out = tmp_path / "ray"
    assert main(["predict", str(tiny_checkpoint), "--article", "--input", str(archive),
                 "--output", str(out), "--engine", "ray", "--workers", "2"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "24 articles, 72 sentences" in captured.out  # title + 2 sentences each
    assert "1 bad lines skipped" in captured.out and "in.jsonl" in captured.err
    assert_same_rows(parquet_rows(out), jsonl_rows(local_out))


def test_parquet_glob_input_gives_the_same_rows(local_ray, tiny_checkpoint, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    archive = write_archive(tmp_path / "in.jsonl", n=9)
    records = [json.loads(line) for line in archive.read_text().splitlines()]
    (tmp_path / "pq").mkdir()
    pq.write_table(pa.Table.from_pylist(records[:5]), tmp_path / "pq" / "a.parquet")
    pq.write_table(pa.Table.from_pylist(records[5:]), tmp_path / "pq" / "b.parquet")
    assert archive_files(str(tmp_path / "pq" / "*.parquet"))[0] == "parquet"
    local_out = tmp_path / "local.jsonl"
    predict_articles_file(load(tiny_checkpoint), archive, local_out)
    stats = predict_archive_ray(
        tiny_checkpoint, str(tmp_path / "pq" / "*.parquet"), tmp_path / "o"
    )
    assert stats["articles"] == 9 and stats["bad_lines"] == []
    assert_same_rows(parquet_rows(tmp_path / "o"), jsonl_rows(local_out))


class FailsOnce(SentencePredictor):  # shipped to the actors by value (see local_ray)
    """Raises on the first batch any actor sees (a marker file makes it once per run)."""

    marker = ""  # set by the test; travels with the class, which is pickled by value

    def __call__(self, batch: dict) -> dict:
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return super().__call__(batch)
        raise RuntimeError("injected failure in a prediction batch")


def test_failed_batch_is_retried_without_loss_or_duplicates(
    local_ray, tiny_checkpoint, tmp_path, monkeypatch
):
    marker = tmp_path / "failed-once"
    monkeypatch.setattr(FailsOnce, "marker", str(marker))
    archive = write_archive(tmp_path / "in.jsonl", n=30)
    local_out = tmp_path / "local.jsonl"
    predict_articles_file(load(tiny_checkpoint), archive, local_out)
    # Small batches, so the failed batch is one of several.
    predict_archive_ray(
        tiny_checkpoint,
        str(archive),
        tmp_path / "ray",
        workers=2,
        batch_size=8,
        predictor=FailsOnce,
    )
    assert marker.exists()  # the failure did happen
    assert_same_rows(parquet_rows(tmp_path / "ray"), jsonl_rows(local_out))


def test_sentence_pool_is_the_same_on_both_engines(local_ray, tmp_path, capsys):
    archive = write_archive(tmp_path / "in.jsonl", n=15, bad_line_at=3)
    local = build_sentence_pool([archive], tmp_path / "local-pool")
    assert main(["build-data", "--input", str(archive), "--output", str(tmp_path / "ray-pool"),
                 "--engine", "ray"]) == 0  # fmt: skip
    assert "15 articles, 45 sentences (ray; 1 bad lines skipped)" in capsys.readouterr().out
    assert local["articles"] == 15 and local["sentences"] == 45
    assert local["bad_line_count"] == 1 and "in.jsonl:4" in local["bad_lines"][0]
    assert list(read_pool(tmp_path / "local-pool")) == list(read_pool(tmp_path / "ray-pool"))
