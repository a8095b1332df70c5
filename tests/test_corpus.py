"""The embedded corpus is validated whole on every test run."""

import json
import re
from collections import Counter

import pytest

from data.agreement import agreement_report, paired_sentences
from data.annotated import align, annotated_files, read_annotated
from data.corpus import CORPUS_DIR, corpus_stats
from data.labels import LABELS
from tests.conftest import REPO

AGREEMENT = REPO / "data" / "corpus" / "agreement"


@pytest.fixture(scope="module")
def stats():
    return corpus_stats()


def test_every_article_parses_and_segments_as_authored():
    problems, ids = [], Counter()
    for path in annotated_files(CORPUS_DIR):
        article = read_annotated(path)  # raises naming file and line on any format error
        ids[article.id] += 1
        problems += align(article).mismatches
    assert problems == []
    assert [i for i, n in ids.items() if n > 1] == []


def test_corpus_is_large_and_varied_enough(stats):
    assert stats["articles"] >= 240 and stats["sentences"] >= 6000
    for label in ("threat", "concession", "demand"):
        assert stats["labels"][label] >= 700, label
    assert stats["labels"]["claim"] >= 1500 and stats["labels"]["other"] >= 1500
    assert len(stats["domains"]) >= 12
    assert len(stats["genres"]) >= 5
    assert len(stats["decades"]) >= 3  # 1980s wire copy as well as today's


def test_no_sentence_repeats_across_articles():
    seen: dict[str, str] = {}
    repeats = []
    for path in annotated_files(CORPUS_DIR):
        article = read_annotated(path)
        for s in article.sentences:
            key = re.sub(r"\W+", " ", s.text.lower()).strip()
            if len(key) > 40 and seen.setdefault(key, article.id) != article.id:
                repeats.append((seen[key], article.id, s.text))
    assert repeats == []


def test_double_annotation_agreement_is_reported_and_high_enough():
    pairs = paired_sentences(AGREEMENT / "first", AGREEMENT / "second")
    report = agreement_report(pairs)
    assert report["sentences"] >= 900
    assert report["kappa"] >= 0.75
    domains = {read_annotated(p).meta["domain"] for p in annotated_files(AGREEMENT / "second")}
    assert len(domains) >= 12


def test_every_disagreement_was_adjudicated_and_applied():
    pairs = {
        (p.doc_id, p.line): p for p in paired_sentences(AGREEMENT / "first", AGREEMENT / "second")
    }
    disagreements = {k for k, p in pairs.items() if p.first != p.second}
    rows = [
        json.loads(line)
        for line in (AGREEMENT / "adjudication.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert {(r["doc_id"], r["line"]) for r in rows} == disagreements
    current = {}
    for path in annotated_files(CORPUS_DIR):
        article = read_annotated(path)
        current.update({(article.id, s.line): s.label for s in article.sentences})
    for r in rows:
        assert r["final"] in LABELS
        assert current[(r["doc_id"], r["line"])] == r["final"], r


def test_repository_contains_no_shared_corpus_text(shared_corpora):
    """No tracked file (corpus, code, docs) holds a 60-character run of the shared corpora."""
    import subprocess

    needles = set()
    for f in shared_corpora.rglob("*.jsonl"):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            text = json.loads(line).get("text", "")
            for part in text.replace("\n", " ").split(". "):
                part = " ".join(part.split())
                if len(part) >= 60:
                    needles.add(part[:60])
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    starts = re.compile(r'(?:^|(?<=[\s"\u201c(\[]))\S')
    leaks = []
    for name in tracked:
        path = REPO / name
        if not path.is_file() or path.suffix in (".png", ".onnx", ".safetensors"):
            continue
        body = " ".join(path.read_text(encoding="utf-8", errors="ignore").split())
        leaks += [
            (name, body[m.start() : m.start() + 60])
            for m in starts.finditer(body)
            if body[m.start() : m.start() + 60] in needles
        ]
    assert leaks == []
