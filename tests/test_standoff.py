"""Stand-off labels: pointers into archives we may read but not redistribute."""

import json
from pathlib import Path

import pytest

from data.build import SplitSettings, build_dataset, near_duplicate_key, read_split
from data.readers import read_articles
from data.standoff import StandoffError, read_standoff, resolve_standoff, text_hash
from tests.conftest import REALNEWS_DEV

STANDOFF_FILES = sorted(Path("data/standoff").glob("*.jsonl"))


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
    dev = {
        near_duplicate_key(json.loads(line)["text"])
        for line in REALNEWS_DEV.read_text(encoding="utf-8").splitlines()
    }
    assert len(STANDOFF_FILES) >= 2
    for path in STANDOFF_FILES:
        rows = list(resolve_standoff(path, shared_corpora / "unlabeled"))
        assert len(rows) == len(read_standoff(path)) > 4000
        assert not [r["id"] for r in rows if near_duplicate_key(r["text"]) in dev], path


def test_standoff_file_holds_no_text():
    for path in STANDOFF_FILES:
        for label in read_standoff(path):
            assert len(label.sha256) == 16 and label.end > label.start


def test_standoff_agreement_pairs_by_slice_and_refuses_different_sentences(tmp_path):
    from data.agreement import agreement_report, paired_standoff

    base = {"archive": "a.jsonl", "article": "x", "sha256": "0" * 16}
    rows = [{**base, "start": i * 10, "end": i * 10 + 5} for i in range(4)]
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("".join(json.dumps({**r, "label": "claim"}) + "\n" for r in rows))
    labels = ["claim", "claim", "claim", "other"]
    # written in another order: pairing is by slice, not by line
    second.write_text(
        "".join(
            json.dumps({**r, "label": lab}) + "\n"
            for r, lab in reversed(list(zip(rows, labels, strict=True)))
        )
    )
    report = agreement_report(paired_standoff(first, second))
    assert report["sentences"] == 4 and report["observed_agreement"] == 0.75
    second.write_text(json.dumps({**rows[0], "label": "claim"}) + "\n")
    with pytest.raises(ValueError, match="label different sentences"):
        paired_standoff(first, second)


@pytest.mark.parametrize("round_", ["round3", "round4"])
def test_standoff_labels_are_the_adjudicated_double_annotation(round_):
    """Where the two committed annotation passes agree, the training label is theirs; where
    they disagree, the adjudicated label is one of the two."""
    from data.agreement import paired_standoff

    final = {
        (x.article, x.start): x.label
        for x in read_standoff(f"data/standoff/unlabeled-{round_}.jsonl")
    }
    pairs = paired_standoff(
        f"data/standoff/agreement/{round_}-first.jsonl",
        f"data/standoff/agreement/{round_}-second.jsonl",
    )
    assert len(pairs) == len(final)
    agreed = [p for p in pairs if p.first == p.second]
    assert all(final[(p.doc_id, p.line)] == p.first for p in agreed)
    disputed = [p for p in pairs if p.first != p.second]
    assert disputed and all(final[(p.doc_id, p.line)] in (p.first, p.second) for p in disputed)
