import json

import pytest

from data.annotated import AnnotationError, align, parse_annotated
from data.readers import ReaderError, read_articles, read_labeled, strip_html

GOOD = """---
id: x-1
date: 1987-04-17
domain: trade
genre: wire
source: Test Wire
---
[claim] JAPAN SAYS IT WILL NOT BOW TO TARIFFS

[other] TOKYO, April 17 - Ministers met on Friday.
[threat] He said Tokyo was ready to answer any further tariffs in kind.

[demand] The ministry urged Washington to lift the tariffs.
"""


def test_parse_annotated_round_trip_text():
    art = parse_annotated(GOOD, "x-1.txt")
    assert art.title.label == "claim"
    assert [s.label for s in art.sentences] == ["claim", "other", "threat", "demand"]
    assert art.text.split("\n")[0] == "JAPAN SAYS IT WILL NOT BOW TO TARIFFS"
    result = align(art)
    assert result.mismatches == []
    assert result.labels == ["claim", "other", "threat", "demand"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (GOOD.replace("[threat]", "[warning]"), "x-1.txt:11: unknown label 'warning'"),
        (GOOD.replace("[other] TOKYO", "other TOKYO"), "x-1.txt:10: expected '[label] sentence'"),
        (GOOD.replace("genre: wire", "genre: blog"), "genre 'blog'"),
        (GOOD.replace("id: x-1\n", ""), "front matter lacks id"),
        (GOOD.replace("---\n[claim]", "[claim]"), "front matter is not closed"),
    ],
)
def test_annotation_errors_name_file_and_line(bad, message):
    with pytest.raises(AnnotationError, match=message.replace("[", r"\[")):
        parse_annotated(bad, "x-1.txt")


def test_align_reports_segmenter_disagreement_and_uses_precedence():
    text = GOOD.replace(
        "[demand] The ministry urged Washington to lift the tariffs.",
        '[claim] "We will not yield.\n[threat] We will retaliate," he said.',
    )
    result = align(parse_annotated(text, "x-1.txt"))
    assert len(result.mismatches) == 1 and "x-1.txt:13, 14" in result.mismatches[0]
    assert result.labels[-1] == "threat"  # merged sentence takes the strongest act
    assert result.agreed_boundaries == result.authored_boundaries - 1


def test_read_text_folder_title_first_line(tmp_path):
    (tmp_path / "a.txt").write_text("Title A\n\nBody one. Body two.\n")
    (tmp_path / "b.md").write_text("# Title B\nBody.\n")
    arts = list(read_articles(tmp_path))
    assert [(a.id, a.title) for a in arts] == [("a", "Title A"), ("b", "Title B")]
    assert arts[0].full_text == "Title A\nBody one. Body two."


def test_read_jsonl_articles_and_errors_name_line(tmp_path):
    path = tmp_path / "arts.jsonl"
    path.write_text(json.dumps({"id": 7, "title": "T", "text": "A. B.", "date": "2020"}) + "\n")
    (art,) = read_articles(path)
    assert (art.id, art.date, art.source) == ("7", "2020", None)
    path.write_text('{"id": 1, "text": "ok"}\n[1, 2]\n')
    with pytest.raises(ReaderError, match=r"arts.jsonl:2: expected a JSON object"):
        list(read_articles(path))
    path.write_text('{"id": 1, "title": "no text"}\n')
    with pytest.raises(ReaderError, match=r"arts.jsonl:1: field 'text' is missing"):
        list(read_articles(path))
    path.write_text('{"id": 1, "text": \n')
    with pytest.raises(ReaderError, match=r"arts.jsonl:1: not valid JSON"):
        list(read_articles(path))


def test_empty_text_file_and_unknown_suffix(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(ReaderError, match="empty.txt: empty file"):
        list(read_articles(tmp_path / "empty.txt"))
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(ReaderError, match="unsupported file type"):
        list(read_articles(tmp_path / "x.csv"))


def test_non_utf8_bytes_are_replaced_and_counted(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Título\nPreço subiu.".encode("latin-1"))
    (art,) = read_articles(path)
    assert art.replaced_chars == 2 and "\ufffd" in art.title


def test_strip_html_uses_parser():
    assert strip_html("<p>Talks <b>resume</b>.</p><script>x()</script><p>Next.</p>").split("\n")[
        :2
    ] == ["Talks resume.", "Next."]
    assert strip_html("5 < 6 and plain") == "5 < 6 and plain"


def test_read_labeled_rejects_unknown_label(tmp_path):
    path = tmp_path / "l.jsonl"
    path.write_text('{"text": "a", "label": "claim"}\n{"text": "b", "label": "warning"}\n')
    with pytest.raises(ReaderError, match=r"l.jsonl:2: unknown label 'warning'"):
        read_labeled(path)
