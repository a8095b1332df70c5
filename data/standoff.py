"""Stand-off annotations: our labels for sentences of archives we may read but not redistribute.

The real articles in `../shared/corpora/unlabeled/` may be read at run time but their text must
never enter this repository. A stand-off file therefore holds only pointers and labels, one JSON
object per line:

    {"archive": "reuters21578-trade.jsonl", "article": "reuters21578-17948",
     "start": 0, "end": 143, "sha256": "<first 16 hex of the sentence's sha256>",
     "label": "claim"}

`start`/`end` are character offsets into the article's text as `data.readers` returns it, and
the hash proves that the slice is the sentence that was annotated. The text is recovered at
build time from the archive folder; when the folder is absent (a clone without `../shared`)
the stand-off rows are skipped with a message, never guessed.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from data.labels import LABELS
from data.readers import read_articles
from data.text import normalize

DEFAULT_ARCHIVES = Path("../shared/corpora/unlabeled")
FIELDS = ("archive", "article", "start", "end", "sha256", "label")


class StandoffError(ValueError):
    """A stand-off line that is malformed or no longer matches its archive."""


@dataclass(frozen=True)
class StandoffLabel:
    archive: str
    article: str
    start: int
    end: int
    sha256: str
    label: str


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_standoff(path: str | Path) -> list[StandoffLabel]:
    """Validated stand-off labels; an error names the file and line."""
    path = Path(path)
    out = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise StandoffError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(obj, dict) or set(obj) != set(FIELDS):
                raise StandoffError(f"{where}: expected exactly the fields {', '.join(FIELDS)}")
            if obj["label"] not in LABELS:
                raise StandoffError(f"{where}: unknown label {obj['label']!r}")
            if not (isinstance(obj["start"], int) and isinstance(obj["end"], int)):
                raise StandoffError(f"{where}: start and end must be integers")
            if not 0 <= obj["start"] < obj["end"]:
                raise StandoffError(f"{where}: start must be >= 0 and below end")
            out.append(StandoffLabel(**obj))
    return out


def archives_used(labels: list[StandoffLabel]) -> list[str]:
    return sorted({x.archive for x in labels})


def missing_archives(labels: list[StandoffLabel], archives: Path) -> list[str]:
    return [name for name in archives_used(labels) if not (archives / name).is_file()]


def archive_texts(archives: Path, labels: list[StandoffLabel]) -> dict[str, dict[str, str]]:
    """{archive name: {article id: text}} for the articles `labels` point into. Each archive
    is read (and its articles cleaned) once, however many stand-off files point into it."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for x in labels:
        wanted[x.archive].add(x.article)
    return {
        name: {a.id: a.text for a in read_articles(archives / name) if a.id in ids}
        for name, ids in wanted.items()
    }


def resolve_labels(
    labels: list[StandoffLabel], texts: dict[str, dict[str, str]], where: Path, archives: Path
) -> Iterator[dict]:
    """Labelled sentence rows (the dataset builder's row shape) for `labels`, cut from `texts`
    (see `archive_texts`); `where` and `archives` only name things in errors.

    Raises StandoffError when an article is gone or a slice no longer hashes to the annotated
    sentence (the archive changed): training on silently shifted text would be worse."""
    for name in archives_used(labels):
        mine = [x for x in labels if x.archive == name]
        position: dict[str, int] = {}
        for x in sorted(mine, key=lambda x: (x.article, x.start)):
            if x.article not in texts[name]:
                raise StandoffError(f"{where}: article {x.article!r} is not in {archives / name}")
            sentence = texts[name][x.article][x.start : x.end]
            if text_hash(sentence) != x.sha256:
                raise StandoffError(
                    f"{where}: {x.article} [{x.start}:{x.end}] no longer matches its hash "
                    f"(was {archives / name} changed?)"
                )
            index = position.get(x.article, 0)
            position[x.article] = index + 1
            yield {
                "id": f"{x.article}@{x.start}",
                "doc_id": x.article,
                "index": index,
                "text": normalize(sentence),
                "label": x.label,
                "domain": "",
                "genre": "real-news",
                "source": Path(name).stem,
                "date": "",
            }


def resolve_standoff(path: str | Path, archives: str | Path) -> Iterator[dict]:
    """The rows of one stand-off file, recovered from the archives (see `resolve_labels`)."""
    path, archives = Path(path), Path(archives)
    labels = read_standoff(path)
    yield from resolve_labels(labels, archive_texts(archives, labels), path, archives)
