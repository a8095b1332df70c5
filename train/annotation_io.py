"""Sentence rows for annotation tools: from labelled/unlabelled sentence JSONL or from articles."""

import json
import os
import tempfile
from pathlib import Path

from data.labels import LabelError, check_label
from data.readers import ReaderError, json_objects
from train.suggest import sentences_from_articles


def _looks_like_articles(path: Path) -> bool:
    if path.is_dir() or path.suffix in (".txt", ".md"):
        return True
    for _, obj in json_objects(path):
        return "title" in obj  # article JSONL has titles; sentence JSONL does not
    return False


def read_sentence_rows(path: str | Path) -> list[dict]:
    """Rows with `text` (and `label`, `doc_id`, ... when present); articles are segmented."""
    path = Path(path)
    if not path.exists():
        raise ReaderError(f"{path}: no such file or folder")
    if _looks_like_articles(path):
        return sentences_from_articles(path)
    rows = []
    for number, obj in json_objects(path):
        if not isinstance(obj.get("text"), str):
            raise ReaderError(f"{path}:{number}: field 'text' is missing or not a string")
        if "label" in obj:
            try:
                check_label(obj["label"])
            except LabelError as err:
                raise ReaderError(f"{path}:{number}: {err}") from None
        rows.append(obj)
    return rows


def write_jsonl(rows: list[dict], path: str | Path) -> Path:
    """Write rows as JSONL atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path
