import json

import pytest

from data.build import (
    DatasetError,
    SplitSettings,
    build_dataset,
    is_stale,
    load_splits,
    near_duplicate_key,
    read_split,
    verify_dataset,
)
from tests.conftest import TINY_ARTICLES, variant, write_article


def build(corpus, out, **kw):
    return build_dataset([corpus], out, SplitSettings(**kw))


def test_no_article_in_two_splits_and_every_split_used(tiny_corpus, tmp_path):
    manifest = build(tiny_corpus, tmp_path / "ds")
    docs = {
        s: {r["doc_id"] for r in read_split(tmp_path / "ds", s)}
        for s in manifest["outputs"] and ("train", "dev", "test")
    }
    assert all(docs.values())
    assert not (
        docs["train"] & docs["dev"] or docs["train"] & docs["test"] or docs["dev"] & docs["test"]
    )
    assert sum(manifest["articles"].values()) == 12


def test_split_is_deterministic_for_a_seed(tiny_corpus, tmp_path):
    a = build(tiny_corpus, tmp_path / "a", seed=3)
    b = build(tiny_corpus, tmp_path / "b", seed=3)
    assert a["outputs"] == b["outputs"] and a["fingerprint"] == b["fingerprint"]


def test_manifest_records_what_was_built(tiny_corpus, tmp_path):
    m = build(tiny_corpus, tmp_path / "ds")
    assert m["labels"] == ["claim", "threat", "demand", "concession", "other"]
    assert m["segmenter"].startswith("sentencex==")
    assert m["settings"]["seed"] == 13
    assert set(m["inputs"]["files"]) == {f"corpus/{p.name}" for p in tiny_corpus.iterdir()}
    total = sum(sum(c.values()) for c in m["counts"].values())
    assert total == 12 * 6


def test_fingerprint_changes_when_one_byte_changes(tiny_corpus, tmp_path):
    first = build(tiny_corpus, tmp_path / "a")
    path = tiny_corpus / "t1-0.txt"
    path.write_text(path.read_text().replace("Delegates", "Delegatez"))
    assert is_stale([tiny_corpus], tmp_path / "a")
    second = build(tiny_corpus, tmp_path / "b")
    assert first["inputs"]["sha256"] != second["inputs"]["sha256"]
    assert first["fingerprint"] != second["fingerprint"]


def test_verify_names_an_edited_split_file(tiny_corpus, tmp_path):
    build(tiny_corpus, tmp_path / "ds")
    verify_dataset(tmp_path / "ds")
    with open(tmp_path / "ds" / "dev.jsonl", "a") as fh:
        fh.write(json.dumps({"text": "x", "label": "claim"}) + "\n")
    with pytest.raises(DatasetError, match=r"dev.jsonl: contents no longer match"):
        verify_dataset(tmp_path / "ds")


def test_exact_duplicates_across_splits_are_dropped(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for k in range(10):
        lines = variant(TINY_ARTICLES["t1"], k)
        lines.append(("other", "Talks continue on Monday."))  # the same sentence everywhere
        write_article(corpus, f"d{k}", lines)
    m = build(corpus, tmp_path / "ds", allow_near_duplicates=True)
    texts = {
        s: [r["text"] for r in read_split(tmp_path / "ds", s)] for s in ("train", "dev", "test")
    }
    assert "Talks continue on Monday." in texts["train"]
    assert "Talks continue on Monday." not in texts["dev"] + texts["test"]
    assert sum(m["dropped_duplicates"].values()) == 10 - m["articles"]["train"]


def test_near_duplicates_across_splits_fail_unless_allowed(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for k in range(10):
        lines = variant(TINY_ARTICLES["t2"], k)
        words = "we will not yield"
        words = words[:k] + words[k].upper() + words[k + 1 :]  # each copy differs only in case
        quote = f"\u201c{words}\u201d" if k % 2 else f'"{words}"'
        lines.append(("claim", f"{quote}, he said."))
        write_article(corpus, f"d{k}", lines)
    with pytest.raises(DatasetError, match="near-duplicate sentences"):
        build(corpus, tmp_path / "ds")
    build(corpus, tmp_path / "ds", allow_near_duplicates=True)


def test_near_duplicate_key_folds_case_quotes_spacing():
    assert near_duplicate_key("\u201cNo\u201d  he SAID") == near_duplicate_key('"no" he said')


def test_load_splits_is_a_datasetdict(tiny_corpus, tmp_path):
    build(tiny_corpus, tmp_path / "ds")
    dd = load_splits(tmp_path / "ds")
    assert set(dd) == {"train", "dev", "test"}
    assert dd["train"].num_rows == len(read_split(tmp_path / "ds", "train"))
    assert {"text", "label", "doc_id"} <= set(dd["train"].column_names)
