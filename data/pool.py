"""Sentence pools: an unlabeled archive segmented once into a Parquet table.

Suggestion and weak-label runs over millions of articles should not re-segment the archive each
time. `build_sentence_pool` reads articles (JSONL, Parquet, .txt/.md), normalises and segments
them, and writes one row per sentence:

    article, source, title, date, index, start, end, text

(`start`/`end` index the article's title + text, as everywhere in parley). The single-process
engine is here; `data.ray_engine` runs the same `pool_rows` function on Ray Data. Both write
Parquet files plus `pool.json` (counts, inputs, segmenter version), so a pool folder is
recognisable and both engines give the same rows.
"""

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from data.readers import Article, article_from_json, jsonl_articles_skipping, read_articles
from data.segment import segment_article, segmenter_version

POOL_MANIFEST = "pool.json"
POOL_COLUMNS = ("article", "source", "title", "date", "index", "start", "end", "text")
ROWS_PER_FILE = 100_000


def sentence_rows(article: Article) -> list[dict]:
    """The sentences of one article with their offsets (the columns prediction writes too)."""
    return [
        {"article": article.id, "index": s.index, "start": s.start, "end": s.end, "text": s.text}
        for s in segment_article(article.full_text)
    ]


def pool_rows(article: Article) -> list[dict]:
    """`sentence_rows` plus the article's metadata (the POOL_COLUMNS; the Parquet schema and
    Ray's column selection put them in order)."""
    meta = {"source": article.source or "", "title": article.title, "date": article.date or ""}
    return [{**row, **meta} for row in sentence_rows(article)]


def article_from_record(record: dict, where: str = "<record>") -> Article:
    """An Article from a Parquet/JSON record with at least `text` (and usually id, title)."""
    clean = {k: v for k, v in record.items() if v is not None}
    return article_from_json(clean, Path(where), 0)


def read_archive(path: str | Path, bad_lines: list[str]) -> Iterator[Article]:
    """Articles from JSONL, .txt/.md, Parquet, or a folder of those, in a stable order.

    Malformed JSONL lines are recorded in `bad_lines` and skipped (archives are large and
    messy)."""
    path = Path(path)
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else []
    if path.suffix == ".parquet":
        files = [path]
    if not files:
        if path.suffix == ".jsonl":
            yield from (article for article, _ in jsonl_articles_skipping(path, bad_lines))
        else:
            yield from read_articles(path)
        return
    import pyarrow.parquet as pq

    for file in files:
        for batch in pq.ParquetFile(file).iter_batches():
            for record in batch.to_pylist():
                yield article_from_record(record, str(file))


def is_pool(path: str | Path) -> bool:
    return (Path(path) / POOL_MANIFEST).is_file()


def write_pool_manifest(
    folder: Path, inputs: list[str], articles: int, sentences: int, bad_lines: list[str]
) -> None:
    manifest = {
        "columns": list(POOL_COLUMNS),
        "inputs": inputs,
        "articles": articles,
        "sentences": sentences,
        "bad_lines": bad_lines[:1000],
        "bad_line_count": len(bad_lines),
        "segmenter": segmenter_version(),
    }
    (folder / POOL_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def _write_part(folder: Path, number: int, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=pool_schema())
    pq.write_table(table, folder / f"part-{number:05d}.parquet")


def pool_schema():
    import pyarrow as pa

    text = pa.string()
    return pa.schema(
        [
            ("article", text),
            ("source", text),
            ("title", text),
            ("date", text),
            ("index", pa.int64()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("text", text),
        ]
    )


def build_sentence_pool(inputs: list[str | Path], output: str | Path) -> dict:
    """Segment every article of `inputs` into a pool folder at `output` (atomically replaced).

    The manifest lists malformed input lines under `bad_lines` (skipped, never fatal)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.tmp-", dir=output.parent))
    try:
        rows: list[dict] = []
        bad_lines: list[str] = []
        parts = articles = sentences = 0
        for path in inputs:
            for article in read_archive(path, bad_lines):
                mine = pool_rows(article)
                articles += bool(mine)  # articles with at least one sentence, as Ray counts
                rows += mine
                if len(rows) >= ROWS_PER_FILE:
                    _write_part(tmp, parts, rows)
                    parts, sentences, rows = parts + 1, sentences + len(rows), []
        if rows or not parts:
            _write_part(tmp, parts, rows)
            sentences += len(rows)
        write_pool_manifest(tmp, [str(p) for p in inputs], articles, sentences, bad_lines)
        if output.exists():
            shutil.rmtree(output)
        tmp.rename(output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return json.loads((output / POOL_MANIFEST).read_text())


def read_pool(folder: str | Path) -> Iterator[dict]:
    """Rows of a pool folder, ordered by article then sentence index."""
    import pyarrow.dataset as pds

    folder = Path(folder)
    if not is_pool(folder):
        raise FileNotFoundError(f"{folder}: not a sentence pool (no {POOL_MANIFEST})")
    files = sorted(str(p) for p in folder.rglob("*.parquet"))
    table = pds.dataset(files, format="parquet").to_table()
    table = table.sort_by([("article", "ascending"), ("index", "ascending")])
    yield from table.to_pylist()
