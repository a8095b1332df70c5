"""Cheap checks on input text that prediction reports as flags rather than failing on."""

import re
from functools import lru_cache

MIN_LETTERS_TO_JUDGE = 20
MIN_CONFIDENCE = 0.9  # short English headlines get low-confidence guesses; only flag sure ones
# Two of these words settle that a sentence is English without running the identifier.
# Only words that are not also common words of the Romance and Germanic languages ("a", "an",
# "die", "also" are left out); most English sentences hit two, so the identifier rarely runs.
_ENGLISH_MARKERS = frozenset(
    """the of to and in said that is was for will would on with has have are be this we our it
    its their which from not been were had they his her should must by""".split()  # noqa: SIM905
)

# Frequent function words of the Latin-script languages news archives mix in (French, Spanish,
# Portuguese, Italian, German, Dutch, Indonesian) that are not English words. The identifier
# costs ~150 us a text, so it runs only on texts that hold one of these or a non-ASCII letter.
_OTHER_LANGUAGE_MARKERS = frozenset(
    """le la les des du et est une dans pour pas qui avec sur au aux ces cette el los las y
    que por para una del se su lo como os um uma com não da em na dos il di che della non gli
    sono der und das nicht ist mit von sich auf dem ein eine zu het een van niet zijn voor ook
    yang untuk dengan tidak ini itu dari ke""".split()  # noqa: SIM905
)

# Counted with regexes, not a per-character Python loop: this runs on every predicted sentence.
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")


@lru_cache(maxsize=1)
def _identifier():
    # py3langid ships its model inside the package (numpy arrays, no pickle): nothing is
    # downloaded, and loading takes a fraction of a second once per process.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _might_be_another_language(text: str, words: list[str]) -> bool:
    """Worth asking the identifier: a common word of another language, or a non-ASCII letter.
    A text with neither is an English headline, list or fragment for every practical purpose."""
    return not text.isascii() or any(word in _OTHER_LANGUAGE_MARKERS for word in words)


def is_mostly_not_english(text: str) -> bool:
    """True when a text is long enough to judge and is mostly another script, or confidently
    identified as another language."""
    letters = len(_LETTER.findall(text))
    if letters < MIN_LETTERS_TO_JUDGE:
        return False
    if len(_LATIN_LETTER.findall(text)) / letters < 0.5:
        return True
    words = text.lower().split()
    if sum(word in _ENGLISH_MARKERS for word in words) >= 2:
        return False
    if not _might_be_another_language(text, words):
        return False
    language, confidence = _identifier().classify(text)
    return language != "en" and confidence >= MIN_CONFIDENCE
