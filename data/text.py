"""Text normalisation shared by dataset building and prediction, so both see the same text."""

import re
import unicodedata

# Zero-width and bidi-control characters that scraped news carries invisibly; they split tokens
# differently for the model without changing what a reader sees.
_INVISIBLE = re.compile(
    "[\u200b\u200c\u200d\u200e\u200f\u2060\u2066-\u2069\u202a-\u202e\ufeff\u00ad]"
)
_SPACE = re.compile(r"\s+")
# Unicode category Cc (NUL, BEL, ESC, DEL, C1 controls) minus the whitespace controls
# \t \n \v \f \r, which are kept so that whitespace collapsing sees them.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def normalize(text: str) -> str:
    """Unicode NFC, invisible and control characters removed, all whitespace collapsed to one
    space, ends stripped. Idempotent: normalize(normalize(t)) == normalize(t)."""
    if not isinstance(text, str):
        raise TypeError(f"normalize expects str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    return _SPACE.sub(" ", text).strip()


def clean_article(text: str) -> str:
    """Normalise an article while keeping its paragraph structure (one paragraph per line).

    Used before segmentation, so offsets refer to this cleaned text."""
    if not isinstance(text, str):
        raise TypeError(f"clean_article expects str, got {type(text).__name__}")
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (normalize(p) for p in text.split("\n"))
    return "\n".join(p for p in paragraphs if p)
