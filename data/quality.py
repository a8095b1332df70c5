"""Cheap checks on input text that prediction reports as flags rather than failing on."""

from functools import lru_cache

MIN_LETTERS_TO_JUDGE = 20
MIN_CONFIDENCE = 0.9  # short English headlines get low-confidence guesses; only flag sure ones
# Two of these words settle that a sentence is English without running the identifier.
_ENGLISH_MARKERS = frozenset(
    ("the", "of", "to", "and", "in", "said", "that", "is", "was", "for", "will", "would", "on")
)


@lru_cache(maxsize=1)
def _identifier():
    # py3langid ships its model inside the package (numpy arrays, no pickle): nothing is
    # downloaded, and loading takes a fraction of a second once per process.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def is_mostly_not_english(text: str) -> bool:
    """True when a text is long enough to judge and is mostly another script, or confidently
    identified as another language."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < MIN_LETTERS_TO_JUDGE:
        return False
    latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)
    if latin / len(letters) < 0.5:
        return True
    if sum(word in _ENGLISH_MARKERS for word in text.lower().split()) >= 2:
        return False
    language, confidence = _identifier().classify(text)
    return language != "en" and confidence >= MIN_CONFIDENCE
