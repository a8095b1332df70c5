"""Ray Data plumbing: start or join Ray, read article archives, segment them in parallel.

Optional: nothing outside `--engine ray` imports this module, and Ray itself is imported only
inside these functions (`pip install -e '.[ray]'`). Every per-row step calls the same plain
function as the single-process path (`data.pool.sentence_rows` / `pool_rows`), which is what
makes the two engines give identical rows.

Inputs may be a file, a folder or a glob, local or an object-store URL (`s3://...`, `gs://...`),
in JSONL (one article per line) or Parquet (columns id, title, text, and optionally source and
date); URLs and globs are passed to Ray unchanged.
"""

import json
import os
import shutil
from glob import glob
from pathlib import Path

from data.pool import (
    POOL_COLUMNS,
    POOL_MANIFEST,
    article_from_record,
    pool_rows,
    write_pool_manifest,
)
from data.readers import Article, ReaderError

URL_SCHEMES = ("s3://", "gs://", "gcs://", "abfs://", "az://", "hdfs://", "http://", "https://")


def start_ray(address: str | None = None, workers: int | None = None) -> None:
    """Join the cluster at `address`, or start a local Ray sized to this machine.

    Locally, one logical CPU more than the prediction actors is declared: the actors each hold
    one for their lifetime, and reading and segmentation tasks need a slot beside them (without
    it the pipeline waits forever). Idempotent: a process already running Ray keeps it."""
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=False)
        return
    ray.init(
        num_cpus=max(os.cpu_count() or 1, (workers or 0) + 1),
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )


def archive_files(path: str) -> tuple[str, list[str]]:
    """("json" | "parquet", paths) for a file, a folder or a glob; URLs pass through."""
    if path.startswith(URL_SCHEMES):
        kind = "parquet" if path.rstrip("/").endswith(".parquet") else "json"
        return kind, [path]
    local = Path(path)
    if local.is_dir():
        files = sorted(str(p) for p in local.rglob("*") if p.suffix in (".jsonl", ".parquet"))
    elif any(ch in path for ch in "*?["):
        files = sorted(glob(path, recursive=True))
    else:
        files = [path] if local.is_file() else []
    if not files:
        raise ReaderError(f"{path}: no .jsonl or .parquet files found")
    kinds = {"parquet" if f.endswith(".parquet") else "json" for f in files}
    if len(kinds) > 1:
        raise ReaderError(f"{path}: mixes JSONL and Parquet; give one kind at a time")
    return kinds.pop(), files


def _record(article: Article) -> dict:
    return {"id": article.id, "title": article.title, "text": article.text,
            "source": article.source, "date": article.date, "error": None}  # fmt: skip


def _error_record(message: str) -> dict:
    return {"id": None, "title": None, "text": None, "source": None, "date": None,
            "error": message}  # fmt: skip


def parse_article_line(row: dict) -> list[dict]:
    """Ray flat_map: one JSONL line -> its article as a record, or one `error` record."""
    line, where = row["text"], row.get("path", "<ray>")
    if not line.strip():
        return []
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return [_error_record(f"{where}: not valid JSON ({err.msg})")]
    if not isinstance(obj, dict):
        return [_error_record(f"{where}: expected a JSON object, got {type(obj).__name__}")]
    try:
        return [_record(article_from_record(obj, where))]
    except ReaderError as err:
        return [_error_record(str(err))]


def read_article_records(path: str):
    """A Ray Dataset of article records (id, title, text, source, date, error)."""
    import ray

    kind, files = archive_files(path)
    if kind == "parquet":
        ds = ray.data.read_parquet(files)
        return ds.map(_record_from_parquet_row)
    lines = ray.data.read_text(files, include_paths=True, drop_empty_lines=True)
    return lines.flat_map(parse_article_line)


def _record_from_parquet_row(row: dict) -> dict:
    try:
        return _record(article_from_record(dict(row), "<parquet>"))
    except ReaderError as err:
        return _error_record(str(err))


def is_error(record: dict) -> bool:
    return record["error"] is not None


def is_article(record: dict) -> bool:
    return record["error"] is None


def article_of(record: dict) -> Article:
    """The Article a parsed record holds. Not parsed again: its text is already cleaned, and
    cleaning twice (HTML stripping above all) could change it."""
    return Article(
        id=record["id"],
        title=record["title"],
        text=record["text"],
        date=record["date"],
        source=record["source"],
    )


def record_pool_rows(record: dict) -> list[dict]:
    """Ray flat_map: an article record -> its sentences with metadata (POOL_COLUMNS)."""
    return pool_rows(article_of(record))


def write_parquet_atomically(ds, output: str | Path) -> dict:
    """Write a Ray Dataset as Parquet under a temporary name, rename it to `output` when
    complete, and return {"articles", "sentences"} counted from what was written."""
    import pyarrow.dataset as pds

    output = Path(output)
    tmp = output.with_name(f".{output.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    ds.write_parquet(str(tmp))
    table = pds.dataset(tmp, format="parquet").to_table(columns=["article"])
    counts = {"articles": len(table.column("article").unique()), "sentences": table.num_rows}
    shutil.rmtree(output, ignore_errors=True)
    tmp.rename(output)
    return counts


def bad_records(path: str, limit: int = 100) -> list[str]:
    """Messages for malformed lines/records (a second, cheap pass: parsing only)."""
    return [r["error"] for r in read_article_records(path).filter(is_error).take(limit)]


def build_sentence_pool_ray(
    inputs: list[str], output: str | Path, address: str | None = None, workers: int | None = None
) -> dict:
    """`data.pool.build_sentence_pool` on Ray Data: parse, normalise and segment in parallel,
    streaming (nothing is held whole in memory), written to a temp folder then renamed."""
    start_ray(address, workers)
    datasets = [read_article_records(p).filter(is_article) for p in inputs]
    ds = datasets[0].union(*datasets[1:]) if len(datasets) > 1 else datasets[0]
    rows = ds.flat_map(record_pool_rows).select_columns(list(POOL_COLUMNS))
    counts = write_parquet_atomically(rows, output)
    bad = [message for p in inputs for message in bad_records(p, limit=1000)]
    sources = [str(p) for p in inputs]
    write_pool_manifest(Path(output), sources, counts["articles"], counts["sentences"], bad)
    return json.loads((Path(output) / POOL_MANIFEST).read_text())
