"""Shared fixtures: tiny annotated corpora built inside the tests, and ../shared paths."""

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REALNEWS_DEV = SHARED / "corpora" / "realnews-dev.jsonl"
UNLABELED = SHARED / "corpora" / "unlabeled"

# Small original articles, one per act-heavy theme, so every label appears in every split.
TINY_ARTICLES = {
    "t1": [
        ("claim", "MINISTRY SAYS TALKS WILL GO ON"),
        ("other", "BRASILIA, May 2 - Delegates met for a third day on Tuesday."),
        ("threat", "The union said it would strike next week unless wages rose."),
        ("demand", "The minister urged both sides to return to the table."),
        ("concession", "The company offered to raise pay by four pct."),
        ("claim", "A spokesman said the offer was fair."),
    ],
    "t2": [
        ("other", "Port workers walk out"),
        ("other", "ROTTERDAM, June 9 - Cranes stood idle at the harbour on Monday."),
        ("threat", "The dockers warned they would block every terminal if talks failed."),
        ("demand", "Their leaders called on the port authority to reinstate two colleagues."),
        ("concession", "The authority agreed to review the dismissals."),
        ("claim", "The authority said the dismissals had been lawful."),
    ],
}


def write_article(
    folder: Path, doc_id: str, lines: list[tuple[str, str]], domain="trade", genre="wire"
) -> Path:
    title, *body = lines
    text = (
        f"---\nid: {doc_id}\ndate: 1987-05-02\ndomain: {domain}\ngenre: {genre}\n"
        f"source: Test Wire\n---\n[{title[0]}] {title[1]}\n\n"
        + "\n".join(f"[{lab}] {sent}" for lab, sent in body)
        + "\n"
    )
    path = folder / f"{doc_id}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def variant(lines, k: int):
    """A reworded copy of an article so that no two articles share exact sentences."""
    return [
        (lab, f"{text[:-1]} in round {k}." if text.endswith(".") else f"{text} {k}")
        for lab, text in lines
    ]


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for k in range(6):
        for doc_id, lines in TINY_ARTICLES.items():
            write_article(folder, f"{doc_id}-{k}", variant(lines, k))
    return folder


@pytest.fixture
def shared_corpora() -> Path:
    if not REALNEWS_DEV.is_file():
        pytest.skip("../shared/corpora is absent (only present in the development checkout)")
    return SHARED / "corpora"


def write_tiny_config(corpus: Path, tmp_path: Path, **extra) -> Path:
    """A baseline config over `corpus` writing into `tmp_path`; `extra` adds top-level keys."""
    path = tmp_path / "baseline.yaml"
    config = {
        "name": "tiny",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [str(corpus)], "output": str(tmp_path / "ds")},
        "model": {"kind": "baseline", "hash_bits": 12, "C": 50.0},
        **extra,
    }
    path.write_text(yaml.safe_dump(config))
    return path
