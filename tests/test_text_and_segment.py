from data.segment import MAX_SENTENCE_CHARS, segment_article
from data.text import clean_article, normalize


def test_normalize_nfc_controls_zero_width_whitespace():
    raw = "Cafe\u0301\u200b  talks\x00 resume\t\n now\u00a0"
    assert normalize(raw) == "Café talks resume now"
    assert normalize(normalize(raw)) == normalize(raw)


def test_clean_article_keeps_paragraphs():
    assert (
        clean_article("Title\r\n\r\n  First   para. \n\nSecond.") == "Title\nFirst para.\nSecond."
    )


def texts(article: str) -> list[str]:
    return [s.text for s in segment_article(article)]


def test_abbreviations_do_not_split():
    out = texts(
        "The U.S. envoy met Mr. Lee and Gen. Park at No. 10 Downing St. on Monday. Talks resumed."
    )
    assert out == [
        "The U.S. envoy met Mr. Lee and Gen. Park at No. 10 Downing St. on Monday.",
        "Talks resumed.",
    ]


def test_decimals_dateline_and_quotes():
    out = texts(
        "TOKYO, March 3 - Exports rose 3.5 pct to 1.2 billion dlrs. "
        '"We will not yield. We will fight," he said. Talks end Friday.'
    )
    assert out == [
        "TOKYO, March 3 - Exports rose 3.5 pct to 1.2 billion dlrs.",
        '"We will not yield. We will fight," he said.',
        "Talks end Friday.",
    ]


def test_title_and_paragraph_breaks_are_sentence_breaks():
    out = texts("CHINA SAYS IT WILL NOT BACK DOWN\nThe ministry spoke\nwithout a full stop")
    assert out == ["CHINA SAYS IT WILL NOT BACK DOWN", "The ministry spoke", "without a full stop"]


def test_offsets_point_into_the_article():
    article = "Headline here\n\n  Beijing vowed to retaliate.  Washington  urged calm.\n"
    for s in segment_article(article):
        assert normalize(article[s.start : s.end]) == s.text
    assert [s.index for s in segment_article(article)] == [0, 1, 2]


def test_guard_bounds_sentence_length_on_unpunctuated_input():
    article = "word " * 5000
    sentences = segment_article(article)
    assert all(s.end - s.start <= MAX_SENTENCE_CHARS for s in sentences)
    assert "".join(s.text.replace(" ", "") for s in sentences) == article.replace(" ", "")


def test_empty_and_whitespace_articles():
    assert segment_article("") == []
    assert segment_article(" \n\t \n") == []
