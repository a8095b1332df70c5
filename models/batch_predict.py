"""Streaming batch prediction over JSONL article archives, resumable and constant in memory.

One output line per sentence: article id, sentence index, character offsets into the article's
title + text, label, score and scores. Articles already complete in the output are skipped, so
an interrupted run continues where it stopped; a malformed input line is reported with its line
number and skipped without losing the rest.
"""

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from data.readers import jsonl_articles_skipping
from data.segment import segment_article
from models.base import Classifier


@dataclass
class BatchStats:
    articles: int = 0
    sentences: int = 0
    skipped_done: int = 0
    bad_lines: list[str] = field(default_factory=list)


def _last_complete_offset(path: Path) -> tuple[int, set[str]]:
    """Byte offset after the last article known to be complete, and the ids before it.

    A run killed mid-write can leave a partial line and a partly written last article: both
    are cut off and that article is done again."""
    done: list[str] = []
    offsets: list[int] = []  # byte offset where each article's block starts
    position = 0
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break  # partial final line
            try:
                article = json.loads(raw)["article"]
            except (ValueError, KeyError, TypeError):
                break
            if not done or done[-1] != article:
                done.append(article)
                offsets.append(position)
            position += len(raw)
    if not done:
        return 0, set()
    return offsets[-1], set(done[:-1])


def _rows(article, sentences, predictions) -> list[str]:
    return [
        json.dumps(
            {
                "article": article.id,
                "index": s.index,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "label": p.label,
                "score": p.score,
                "scores": p.scores,
                "flags": list(p.flags),
            },
            ensure_ascii=False,
        )
        + "\n"
        for s, p in zip(sentences, predictions, strict=True)
    ]


def predict_articles_file(
    classifier: Classifier,
    input_path: str | Path,
    output_path: str | Path,
    batch_sentences: int = 512,
    progress: bool | None = None,
) -> BatchStats:
    """Label every sentence of every article in `input_path` (JSONL) into `output_path`."""
    from tqdm.auto import tqdm

    input_path, output_path = Path(input_path), Path(output_path)
    stats = BatchStats()
    done: set[str] = set()
    if output_path.exists():
        cut, done = _last_complete_offset(output_path)
        with open(output_path, "r+b") as fh:
            fh.truncate(cut)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(
        total=input_path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc="articles",
        disable=not (sys.stderr.isatty() if progress is None else progress),
    )
    pending: list[tuple] = []  # (article, sentences) waiting for one batched predict call
    pending_sentences = 0

    def flush(out) -> None:
        nonlocal pending, pending_sentences
        texts = [s.text for _, sents in pending for s in sents]
        # Positions by article number in this batch (ids in a file need not be unique), so a
        # context layer reads each sentence's neighbours within its own article.
        positions = [(str(k), s.index) for k, (_, sents) in enumerate(pending) for s in sents]
        predictions = iter(classifier.predict_in_context(texts, positions) if texts else ())
        for article, sents in pending:
            out.writelines(_rows(article, sents, [next(predictions) for _ in sents]))
            stats.articles += 1
            stats.sentences += len(sents)
        out.flush()
        os.fsync(out.fileno())  # an article's lines reach the disk before the next batch
        pending, pending_sentences = [], 0

    with open(output_path, "a", encoding="utf-8") as out:
        read_before = 0
        for article, read in jsonl_articles_skipping(input_path, stats.bad_lines):
            bar.update(read - read_before)
            read_before = read
            if article.id in done:
                stats.skipped_done += 1
                continue
            sentences = segment_article(article.full_text)
            pending.append((article, sentences))
            pending_sentences += len(sentences)
            if pending_sentences >= batch_sentences:
                flush(out)
                bar.set_postfix(articles=stats.articles, sentences=stats.sentences)
        flush(out)
    bar.close()
    return stats
