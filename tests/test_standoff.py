"""Stand-off labels: pointers into archives we may read but not redistribute."""

import json

import pytest

from data.build import SplitSettings, build_dataset, near_duplicate_key, read_split
from data.readers import read_articles
from data.standoff import StandoffError, read_standoff, resolve_standoff, text_hash
from tests.conftest import REALNEWS_DEV

STANDOFF = "data/standoff/unlabeled-round3.jsonl"


def write_archive(path):
    articles = [
        {"id": "w1", "title": "T", "text": "Seoul agreed to lift the quota. Talks end Friday."},
        {"id": "w2", "title": "U", "text": "The union demanded a raise. It met on Monday."},
    ]
    path.write_text("\n".join(json.dumps(a) for a in articles) + "\n")
    return {a.id: a.text for a in read_articles(path)}


def label_line(archive, article, text, sentence, label):
    start = text.index(sentence)
    end = start + len(sentence)
    return {"archive": archive, "article": article, "start": start, "end": end,
            "sha256": text_hash(sentence), "label": label}  # fmt: skip


def test_resolve_recovers_text_and_refuses_a_changed_archive(tmp_path):
    texts = write_archive(tmp_path / "arch.jsonl")
    lines = [
        label_line(
            "arch.jsonl", "w1", texts["w1"], "Seoul agreed to lift the quota.", "concession"
        ),
        label_line("arch.jsonl", "w2", texts["w2"], "The union demanded a raise.", "demand"),
    ]
    standoff = tmp_path / "labels.jsonl"
    standoff.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    rows = list(resolve_standoff(standoff, tmp_path))
    assert [(r["doc_id"], r["text"], r["label"]) for r in rows] == [
        ("w1", "Seoul agreed to lift the quota.", "concession"),
        ("w2", "The union demanded a raise.", "demand"),
    ]
    (tmp_path / "arch.jsonl").write_text(
        (tmp_path / "arch.jsonl").read_text().replace("Seoul", "Tokyo")
    )
    with pytest.raises(StandoffError, match="no longer matches its hash"):
        list(resolve_standoff(standoff, tmp_path))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"label": "threatened"}, "unknown label"),
        ({"start": 9, "end": 3}, "below end"),
        ({"extra": 1}, "exactly the fields"),
    ],
)
def test_malformed_lines_are_named(tmp_path, change, message):
    good = {"archive": "a.jsonl", "article": "x", "start": 0, "end": 5, "sha256": "0" * 16,
            "label": "claim"}  # fmt: skip
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, **change}) + "\n")
    with pytest.raises(StandoffError, match=f"s.jsonl:2: .*{message}"):
        read_standoff(path)


def test_build_uses_standoff_rows_and_skips_them_without_the_archive(tiny_corpus, tmp_path):
    (tmp_path / "arch").mkdir()
    texts = write_archive(tmp_path / "arch" / "a.jsonl")
    line = label_line("a.jsonl", "w2", texts["w2"], "The union demanded a raise.", "demand")
    standoff = tmp_path / "labels.jsonl"
    standoff.write_text(json.dumps(line) + "\n")
    settings = SplitSettings()
    with_archive = build_dataset([tiny_corpus], tmp_path / "ds1", settings, (), [standoff],
                                 tmp_path / "arch")  # fmt: skip
    rows = [r for s in ("train", "dev", "test") for r in read_split(tmp_path / "ds1", s)]
    assert [r["label"] for r in rows if r["doc_id"] == "w2"] == ["demand"]
    assert with_archive["standoff_skipped"] == []
    without = build_dataset([tiny_corpus], tmp_path / "ds2", settings, (), [standoff],
                            tmp_path / "nowhere")  # fmt: skip
    assert "a.jsonl not found" in without["standoff_skipped"][0]
    assert without["inputs"]["sha256"] != with_archive["inputs"]["sha256"]


def test_project_standoff_labels_resolve_and_avoid_realnews_dev(shared_corpora):
    """Every committed stand-off label still matches the archive, and no labelled sentence
    is (nearly) a realnews-dev sentence: the evaluation data never leaks into training."""
    rows = list(resolve_standoff(STANDOFF, shared_corpora / "unlabeled"))
    assert len(rows) == len(read_standoff(STANDOFF)) > 6000
    dev = {
        near_duplicate_key(json.loads(line)["text"])
        for line in REALNEWS_DEV.read_text(encoding="utf-8").splitlines()
    }
    assert not [r["id"] for r in rows if near_duplicate_key(r["text"]) in dev]


def test_standoff_file_holds_no_text():
    for label in read_standoff(STANDOFF):
        assert len(label.sha256) == 16 and label.end > label.start
