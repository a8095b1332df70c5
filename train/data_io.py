"""Labelled evaluation data from a JSONL file or a built dataset folder."""

from pathlib import Path

from data.build import SPLITS, read_split, verify_dataset
from data.readers import read_labeled


def read_eval_rows(path: str | Path, split: str = "test") -> list[dict]:
    """Rows with `text`, `label`, `doc_id` from labelled JSONL or a built dataset's split."""
    path = Path(path)
    if path.is_dir():
        if split not in SPLITS:
            raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
        verify_dataset(path)
        return read_split(path, split)
    return [
        {"text": r.text, "label": r.label, "doc_id": r.doc_id, "id": r.id}
        for r in read_labeled(path)
    ]
