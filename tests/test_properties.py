"""Property tests: segmentation, prediction and readers hold for any input."""

import json
import re
import unicodedata

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.annotated import AnnotationError, parse_annotated
from data.annotation_formats import FORMATS, AnnotationFormatError, read_tasks
from data.labels import LABELS
from data.readers import ReaderError, read_articles
from data.segment import segment_article
from data.text import normalize
from models.base import Classifier

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

news_text = st.lists(
    st.sampled_from(
        list("abcXYZ .,;:!?\"'()-\n\t0123456789")
        + [
            "U.S.",
            "Mr.",
            "No.",
            " 3.5 ",
            "\u201c",
            "\u201d",
            "\u200b",
            "\x00",
            "é",
            "\u00a0",
            "\r\n",
            "The talks",
            " said. ",
            "GENEVA, May 4 - ",
        ]
    ),
    max_size=120,
).map("".join)


def _removed_by_normalize(ch: str) -> bool:
    return ch.isspace() or normalize(f"a{ch}a") == "aa"


@SETTINGS
@given(news_text)
def test_segmentation_terminates_keeps_characters_and_maps_offsets(text):
    sentences = segment_article(text)
    covered = np.zeros(len(text), dtype=bool)
    last_end = 0
    for i, s in enumerate(sentences):
        assert s.index == i
        assert last_end <= s.start < s.end <= len(text)
        assert normalize(text[s.start : s.end]) == s.text
        covered[s.start : s.end] = True
        last_end = s.end
    lost = [ch for i, ch in enumerate(text) if not covered[i] and not _removed_by_normalize(ch)]
    assert lost == []


class KeywordModel(Classifier):
    """A deterministic stand-in whose logits depend on every character of the input."""

    kind = "test"

    def _logits(self, texts):
        out = np.zeros((len(texts), len(LABELS)))
        for i, t in enumerate(texts):
            codes = np.frombuffer(t.encode("utf-8"), dtype=np.uint8).astype(float)
            out[i] = [codes[j::5].sum() % 7 for j in range(5)]
            out[i, 1] += 3 * ("retaliat" in t.lower())
        return out


@pytest.fixture(scope="module")
def baseline():
    from models.baseline import BaselineClassifier
    from tests.conftest import TINY_ARTICLES
    from train.config import BaselineModel

    rows = [pair for lines in TINY_ARTICLES.values() for pair in lines]
    params = {**BaselineModel(kind="baseline", hash_bits=12).model_dump(), "seed": 0}
    return BaselineClassifier(params).fit([t for _, t in rows], [lab for lab, _ in rows])


@SETTINGS
@given(st.lists(st.text(max_size=300), min_size=1, max_size=6))
def test_predict_never_raises_and_scores_are_a_distribution(baseline, texts):
    for model in (baseline, KeywordModel()):
        preds = model.predict(texts)
        assert len(preds) == len(texts)
        for text, pred in zip(texts, preds, strict=True):
            assert list(pred.scores) == list(LABELS)
            values = np.array(list(pred.scores.values()))
            assert np.all(np.isfinite(values)) and abs(values.sum() - 1) < 1e-9
            assert pred.label in LABELS and pred.score == pred.scores[pred.label]
            alone = model.predict([text])[0]
            assert alone.label == pred.label
            assert np.allclose(list(alone.scores.values()), values, atol=1e-12)
            assert model.predict([normalize(text)])[0].scores == alone.scores


@SETTINGS
@given(st.binary(max_size=300))
def test_article_reader_parses_or_raises_its_own_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("r")
    for name in ("a.jsonl", "a.txt"):
        path = folder / name
        path.write_bytes(data)
        try:
            for article in read_articles(path):
                assert isinstance(article.text, str)
        except ReaderError:
            pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "text",
                    "label",
                    "answer",
                    "accept",
                    "annotations",
                    "result",
                    "value",
                    "choices",
                    "data",
                    "was_cancelled",
                    "options",
                    "id",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@SETTINGS
@given(st.lists(json_values, max_size=4), st.sampled_from(FORMATS))
def test_importers_parse_or_raise_their_own_error(tmp_path_factory, items, fmt):
    path = tmp_path_factory.mktemp("i") / "export.json"
    if fmt == "labelstudio":
        path.write_text(json.dumps(items))
    else:
        path.write_text("\n".join(json.dumps(x) for x in items))
    try:
        for row in read_tasks(path, fmt):
            assert row["label"] in LABELS
    except AnnotationFormatError:
        pass


@SETTINGS
@given(st.text(max_size=300))
def test_annotated_parser_parses_or_raises_its_own_error(body):
    text = "---\nid: x\ndate: 2020-01-01\ndomain: trade\ngenre: wire\nsource: s\n---\n" + body
    try:
        article = parse_annotated(text, "x.txt")
        assert all(s.label in LABELS for s in article.sentences)
    except AnnotationError:
        pass


def test_character_classes_used_above_are_really_removed():
    assert _removed_by_normalize("\u200b") and _removed_by_normalize("\x00")
    assert not _removed_by_normalize("é") and unicodedata.category("é") == "Ll"
    assert re.fullmatch(r"\s", "\u00a0")
