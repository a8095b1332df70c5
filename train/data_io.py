"""Labelled evaluation data from a JSONL file or a built dataset folder."""

from collections import Counter
from pathlib import Path

from data.build import SPLITS, read_split, verify_dataset
from data.readers import read_labeled
from models.context import Position


def read_eval_rows(path: str | Path, split: str = "test") -> list[dict]:
    """Rows with `text`, `label`, `doc_id`, `index` from labelled JSONL or a built dataset's
    split. A JSONL row without `index` is placed by its order among its document's rows."""
    path = Path(path)
    if path.is_dir():
        if split not in SPLITS:
            raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
        verify_dataset(path)
        return read_split(path, split)
    rows, seen = [], Counter()
    for r in read_labeled(path):
        index = r.index if r.index is not None else seen[r.doc_id]
        seen[r.doc_id] += 1
        rows.append(
            {"text": r.text, "label": r.label, "doc_id": r.doc_id, "id": r.id, "index": index}
        )
    return rows


def sentence_positions(rows: list[dict]) -> list[Position] | None:
    """(doc_id, index) of every row, for a context layer; None when two rows claim the same
    place (then their neighbours are unknown and sentences are read alone)."""
    positions = [(str(r["doc_id"]), int(r["index"])) for r in rows]
    return positions if len(set(positions)) == len(positions) else None
