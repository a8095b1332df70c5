"""Text normalisation shared by dataset building and prediction, so both see the same text."""

import re
import unicodedata

# Zero-width and bidi-control characters that scraped news carries invisibly; they split tokens
# differently for the model without changing what a reader sees.
_INVISIBLE = re.compile(
    "[\u200b\u200c\u200d\u200e\u200f\u2060\u2066-\u2069\u202a-\u202e\ufeff\u00ad]"
)
_SPACE = re.compile(r"\s+")


def _is_control(ch: str) -> bool:
    # Category Cc holds NUL, BEL, ESC and friends; whitespace controls are kept for collapsing.
    return unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v"


def normalize(text: str) -> str:
    """Unicode NFC, invisible and control characters removed, all whitespace collapsed to one
    space, ends stripped. Idempotent: normalize(normalize(t)) == normalize(t)."""
    if not isinstance(text, str):
        raise TypeError(f"normalize expects str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(ch for ch in text if not _is_control(ch))
    return _SPACE.sub(" ", text).strip()


def clean_article(text: str) -> str:
    """Normalise an article while keeping its paragraph structure (one paragraph per line).

    Used before segmentation, so offsets refer to this cleaned text."""
    if not isinstance(text, str):
        raise TypeError(f"clean_article expects str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (normalize(p) for p in text.split("\n"))
    return "\n".join(p for p in paragraphs if p)
