"""Article and labelled-sentence readers. Every error names the file and, where there is one,
the line; nothing is silently dropped.

- A folder of `.txt`/`.md` files: one article per file, the first non-empty line is the title.
- JSONL articles: one object per line with `id`, `title`, `text` and optional `date`, `source`.
- Labelled-sentence JSONL: one object per line with `text`, `label` and optional `doc_id`, `id`.

Clean-up that readers do, and say so: bytes that are not UTF-8 become U+FFFD (counted in
`Article.replaced_chars`); HTML markup in a text is stripped with a real HTML parser.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from data.labels import LabelError, check_label
from data.text import clean_article

ARTICLE_SUFFIXES = (".txt", ".md")
_HTML_HINT = re.compile(
    r"<\s*(p|br|div|span|a|b|i|em|strong|html|body|script|style|li|h[1-6])\b", re.IGNORECASE
)


class ReaderError(ValueError):
    """Input that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    replaced_chars: int = 0

    @property
    def full_text(self) -> str:
        """Title and body, the title on its own line so it is always its own sentence."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class LabeledSentence:
    text: str
    label: str
    doc_id: str
    id: str
    index: int | None = None
    """The sentence's place in its document when the file gives one (`index`)."""


def strip_html(text: str) -> str:
    """Text content of HTML, block elements becoming line breaks; plain text passes unchanged."""
    if not _HTML_HINT.search(text):
        return text
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(text)
    for node in tree.css("script, style, noscript"):
        node.decompose()
    for node in tree.css("br, p, div, li, h1, h2, h3, h4, h5, h6, tr"):
        node.insert_after("\n")
    body = tree.body or tree.root
    return body.text(separator="", strip=False) if body is not None else ""


def _decode(data: bytes) -> tuple[str, int]:
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - data.decode("utf-8", errors="ignore").count("\ufffd")
    return text, replaced


def _make_article(
    id_: str, title: str, body: str, date=None, source=None, replaced: int = 0
) -> Article:
    return Article(
        id=id_,
        title=clean_article(strip_html(title)).replace("\n", " "),
        text=clean_article(strip_html(body)),
        date=None if date is None else str(date),
        source=None if source is None else str(source),
        replaced_chars=replaced,
    )


def read_text_article(path: Path) -> Article:
    """A `.txt`/`.md` file: first non-empty line is the title, the rest the body."""
    text, replaced = _decode(path.read_bytes())
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ReaderError(f"{path}: empty file, no title or text")
    title = lines[0].lstrip("# ").strip()
    return _make_article(path.stem, title, "\n".join(lines[1:]), replaced=replaced)


def json_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; bad lines raise ReaderError."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            line, _ = _decode(raw)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise ReaderError(f"{path}:{number}: not valid JSON ({err.msg})") from None
            if not isinstance(obj, dict):
                raise ReaderError(
                    f"{path}:{number}: expected a JSON object, got {type(obj).__name__}"
                )
            yield number, obj


def _require_str(obj: dict, key: str, path: Path, number: int) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        what = "missing" if value is None else f"a {type(value).__name__}, not a string"
        raise ReaderError(f"{path}:{number}: field {key!r} is {what}")
    return value


def article_from_json(obj: dict, path: Path, number: int) -> Article:
    text = _require_str(obj, "text", path, number)
    title = obj.get("title") or ""
    if not isinstance(title, str):
        raise ReaderError(f"{path}:{number}: field 'title' must be a string")
    id_ = obj.get("id")
    id_ = f"{path.stem}-{number}" if id_ is None else str(id_)
    replaced = text.count("\ufffd")
    return _make_article(id_, title, text, obj.get("date"), obj.get("source"), replaced)


def read_jsonl_articles(path: Path) -> Iterator[Article]:
    for number, obj in json_objects(path):
        yield article_from_json(obj, path, number)


def read_articles(path: str | Path) -> Iterator[Article]:
    """Articles from a `.jsonl` file, a `.txt`/`.md` file, or a folder of such files."""
    path = Path(path)
    if not path.exists():
        raise ReaderError(f"{path}: no such file or folder")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (*ARTICLE_SUFFIXES, ".jsonl"))
        if not files:
            raise ReaderError(f"{path}: folder holds no .txt, .md or .jsonl files")
        for f in files:
            yield from read_articles(f)
    elif path.suffix == ".jsonl":
        yield from read_jsonl_articles(path)
    elif path.suffix in ARTICLE_SUFFIXES:
        yield read_text_article(path)
    else:
        raise ReaderError(f"{path}: unsupported file type (use .jsonl, .txt or .md)")


def read_labeled(path: str | Path) -> list[LabeledSentence]:
    """Labelled sentences from JSONL (`text`, `label`, optional `doc_id`, `id`, `index`)."""
    path = Path(path)
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    rows = []
    for number, obj in json_objects(path):
        text = _require_str(obj, "text", path, number)
        try:
            label = check_label(obj.get("label"))
        except LabelError as err:
            raise ReaderError(f"{path}:{number}: {err}") from None
        doc_id = str(obj.get("doc_id", f"{path.stem}-{number}"))
        index = obj.get("index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise ReaderError(f"{path}:{number}: index must be an integer, got {index!r}")
        sentence_id = str(obj.get("id", f"{doc_id}#{number}"))
        rows.append(LabeledSentence(text, label, doc_id, sentence_id, index))
    if not rows:
        raise ReaderError(f"{path}: no labelled sentences")
    return rows


def read_sentence_lines(path: str | Path) -> list[str]:
    """Plain sentences, one per non-blank line."""
    text, _ = _decode(Path(path).read_bytes())
    return [line for line in text.splitlines() if line.strip()]


def jsonl_articles_skipping(path: Path, bad_lines: list[str]) -> Iterator[tuple[Article, int]]:
    """(article, bytes read so far) for each line of a JSONL archive; a malformed line is
    recorded in `bad_lines` with its line number and skipped (archives are large and messy)."""
    with open(path, "rb") as fh:
        read = 0
        for number, raw in enumerate(fh, start=1):
            read += len(raw)
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ReaderError(f"{path}:{number}: expected a JSON object")
                yield article_from_json(obj, path, number), read
            except json.JSONDecodeError as err:
                bad_lines.append(f"{path}:{number}: not valid JSON ({err.msg})")
            except ReaderError as err:
                bad_lines.append(str(err))
