import json
import re
from collections import Counter

import numpy as np
import pytest

from data.build import near_duplicate_key
from data.labels import LABELS
from data.readers import read_articles
from data.text import normalize
from models.base import Classifier
from models.baseline import BaselineClassifier
from tests.conftest import TINY_ARTICLES, variant
from train.config import BaselineModel
from train.suggest import margin_uncertainty, sentences_from_articles, suggest


class ScriptedClassifier(Classifier):
    """Predicts `label` for a text with a logit lead of `gap` over the runner-up: the smaller
    the gap, the more uncertain. Texts are keyed by their normalised form."""

    kind = "scripted"

    def __init__(self, script: dict[str, tuple[str, float]]):
        self.script = {normalize(text): value for text, value in script.items()}

    def _logits(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        for row, text in zip(out, texts, strict=True):
            label, gap = self.script[text]
            row[LABELS.index(label)] = gap
        return out


def rows(script: dict[str, tuple[str, float]], doc_of=lambda i: f"d{i}") -> list[dict]:
    return [
        {"id": f"s{i}", "doc_id": doc_of(i), "index": i, "text": text}
        for i, text in enumerate(script)
    ]


def test_most_uncertain_first_with_metadata_and_prediction_kept():
    script = {
        "Sure thing one.": ("claim", 4.0),
        "Coin toss two.": ("threat", 0.1),
        "Fairly sure three.": ("demand", 2.0),
    }
    picked = suggest(ScriptedClassifier(script), rows(script), n=3)
    assert [r["text"] for r in picked] == [
        "Coin toss two.",
        "Fairly sure three.",
        "Sure thing one.",
    ]
    first = picked[0]
    assert {k: first[k] for k in ("id", "doc_id", "index")} == {
        "id": "s1",
        "doc_id": "d1",
        "index": 1,
    }
    assert first["prediction"]["label"] == "threat"
    assert list(first["prediction"]["scores"]) == list(LABELS)
    assert first["uncertainty"] == pytest.approx(margin_uncertainty(first["prediction"]["scores"]))
    assert 0 <= picked[-1]["uncertainty"] < first["uncertainty"] <= 1


def test_margin_uncertainty_bounds():
    assert margin_uncertainty(dict.fromkeys(LABELS, 0.2)) == pytest.approx(1.0)
    assert margin_uncertainty({"claim": 1.0, "threat": 0.0}) == pytest.approx(0.0)


def test_per_article_cap_is_respected():
    a_texts = [
        "Ministers met in Geneva.",
        "The union rejected the offer.",
        "Farmers blocked a motorway.",
        "Exports fell sharply in May.",
        "Envoys flew home on Friday.",
        "A ceasefire took hold overnight.",
    ]
    b_texts = ["Rates were left unchanged.", "Talks will resume next week.", "Shares rose."]
    script = {text: ("claim", 0.01 * i) for i, text in enumerate(a_texts)}
    script |= {text: ("claim", 1.0 + i) for i, text in enumerate(b_texts)}
    sentences = rows(script, doc_of=lambda i: "A" if i < len(a_texts) else "B")
    picked = suggest(ScriptedClassifier(script), sentences, n=10, per_article=2)
    assert Counter(r["doc_id"] for r in picked) == {"A": 2, "B": 2}
    # The two kept from A are A's most uncertain.
    assert {r["text"] for r in picked if r["doc_id"] == "A"} == set(a_texts[:2])


def test_no_near_duplicates_are_suggested():
    script = {
        "The minister said talks would resume on Monday.": ("claim", 0.1),
        "THE MINISTER SAID TALKS WOULD RESUME ON MONDAY.": ("claim", 0.2),  # case folded
        "The minister  said talks would resume on Monday .": ("claim", 0.3),  # spacing
        "The minister said talks would resume on Tuesday.": ("claim", 0.4),  # 7 of 9 words
        "Dockers threatened to block every terminal.": ("claim", 0.5),
    }
    picked = suggest(ScriptedClassifier(script), rows(script), n=5)
    texts = [r["text"] for r in picked]
    assert texts[0] == "The minister said talks would resume on Monday."
    assert len({near_duplicate_key(t) for t in texts}) == len(texts)
    assert "Dockers threatened to block every terminal." in texts
    assert not any("Tuesday" in t for t in texts)


def test_labels_are_spread_round_robin_in_uncertainty_order():
    # The five most uncertain sentences are all predicted `claim`; the spread must still reach
    # threat and demand before a second claim.
    script = {f"Claim sentence {w} said.": ("claim", 0.05 * i) for i, w in enumerate("abcde")}
    script["The union warned of a strike."] = ("threat", 1.0)
    script["Dockers urged a return to talks."] = ("demand", 2.0)
    picked = suggest(ScriptedClassifier(script), rows(script), n=4)
    assert [r["prediction"]["label"] for r in picked] == ["claim", "threat", "demand", "claim"]
    assert picked[0]["text"] == "Claim sentence a said."
    assert picked[3]["text"] == "Claim sentence b said."


def test_empty_sentences_are_never_suggested_and_n_bounds_the_list():
    script = {"One real sentence.": ("claim", 0.5), "Another real sentence here.": ("other", 1.0)}
    sentences = [*rows(script), {"id": "e", "doc_id": "e", "text": " \u200b "}]
    assert [r["id"] for r in suggest(ScriptedClassifier(script), sentences, n=10)] == ["s0", "s1"]
    assert suggest(ScriptedClassifier(script), sentences, n=1)[0]["id"] == "s0"
    assert suggest(ScriptedClassifier(script), sentences, n=0) == []


def test_ties_are_broken_by_the_seed_deterministically():
    script = {f"Tied sentence {w} today.": ("claim", 0.5) for w in "abcdefgh"}
    clf, sentences = ScriptedClassifier(script), rows(script)
    first = [r["id"] for r in suggest(clf, sentences, n=8, seed=1)]
    assert first == [r["id"] for r in suggest(clf, sentences, n=8, seed=1)]
    assert sorted(first) == sorted(r["id"] for r in sentences)


def test_bad_arguments_are_refused():
    clf = ScriptedClassifier({})
    with pytest.raises(ValueError, match="per_article"):
        suggest(clf, [], n=3, per_article=0)
    with pytest.raises(ValueError, match="n must be"):
        suggest(clf, [], n=-1)
    with pytest.raises(ValueError, match="sentence 0"):
        suggest(clf, [{"txt": "no text key"}], n=1)


def test_sentences_from_articles_have_offsets_into_the_article(tmp_path):
    path = tmp_path / "articles.jsonl"
    articles = [
        {"id": "a1", "title": "Port strike looms", "text": "Dockers warned. They want pay."},
        {"id": "a2", "title": "Talks resume", "text": "Delegates met again on Monday."},
    ]
    path.write_text("".join(json.dumps(a) + "\n" for a in articles))
    sentences = sentences_from_articles(path)
    full = {a.id: a.full_text for a in read_articles(path)}
    assert [(s["doc_id"], s["index"]) for s in sentences] == [
        ("a1", 0),
        ("a1", 1),
        ("a1", 2),
        ("a2", 0),
        ("a2", 1),
    ]
    assert sentences[0] == {
        "id": "a1#s000",
        "doc_id": "a1",
        "index": 0,
        "start": 0,
        "end": 17,
        "text": "Port strike looms",
    }
    for s in sentences:
        assert normalize(full[s["doc_id"]][s["start"] : s["end"]]) == s["text"]


def test_suggest_with_a_real_baseline_over_articles(tmp_path):
    lines = [pair for article in TINY_ARTICLES.values() for pair in article]
    params = {**BaselineModel(kind="baseline", hash_bits=12).model_dump(), "seed": 0}
    clf = BaselineClassifier(params).fit([t for _, t in lines], [lab for lab, _ in lines])
    path = tmp_path / "articles.jsonl"
    with path.open("w") as fh:
        for k in range(4):
            for doc_id, article in TINY_ARTICLES.items():
                title, *body = variant(article, k)
                text = " ".join(t for _, t in body)
                fh.write(json.dumps({"id": f"{doc_id}-{k}", "title": title[1], "text": text}))
                fh.write("\n")
    sentences = sentences_from_articles(path)
    picked = suggest(clf, sentences, n=6, per_article=2)
    assert len(picked) == 6
    assert max(Counter(r["doc_id"] for r in picked).values()) <= 2
    assert len({near_duplicate_key(r["text"]) for r in picked}) == 6
    assert len({r["prediction"]["label"] for r in picked}) >= 3
    # Every variant repeats the body sentences with "in round k" added: near-duplicates, so each
    # original body sentence is suggested once, however large n is.
    everything = suggest(clf, sentences, n=len(sentences), per_article=len(sentences))
    rounds = [
        re.sub(r" in round \d\.$", ".", r["text"]) for r in everything if "round" in r["text"]
    ]
    assert sorted(rounds) == sorted({t for lines in TINY_ARTICLES.values() for _, t in lines[1:]})


def test_a_sentence_pool_gives_the_rows_of_its_articles(tmp_path):
    import json

    from data.pool import build_sentence_pool
    from train.suggest import sentences_from_articles

    archive = tmp_path / "a.jsonl"
    archive.write_text(
        "\n".join(
            json.dumps(
                {"id": f"n{i}", "title": f"Talks {i}", "text": "Seoul agreed. Tokyo said no."}
            )
            for i in range(3)
        )
        + "\n"
    )
    build_sentence_pool([archive], tmp_path / "pool")
    assert sentences_from_articles(tmp_path / "pool") == sentences_from_articles(archive)
