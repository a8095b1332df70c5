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
# Portuguese, Italian, German, Dutch, Indonesian) that are not English words.
_OTHER_LANGUAGE_MARKERS = frozenset(
    """le la les des du et est une dans pour pas qui avec sur au aux ces cette el los las y
    que por para una del se su lo como os um uma com não da em na dos il di che della non gli
    sono der und das nicht ist mit von sich auf dem ein eine zu het een van niet zijn voor ook
    yang untuk dengan tidak ini itu dari ke""".split()  # noqa: SIM905
)

# Curly quotes, dashes and the like: non-ASCII, but no evidence of another language.
_TYPOGRAPHY = str.maketrans(
    dict.fromkeys("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022\u00a0", " ")
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


def _looks_english(words: list[str]) -> bool:
    return len(_ENGLISH_MARKERS.intersection(words)) >= 2


def _identified_as_other_language(text: str) -> bool:
    language, confidence = _identifier().classify(text)
    return language != "en" and confidence >= MIN_CONFIDENCE


def is_mostly_not_english(text: str) -> bool:
    """True when a text is long enough to judge and is mostly another script, or confidently
    identified as another language.

    The identifier costs ~150 us a text, so it is asked only about texts that do not look
    English (two distinct common English words) and hold a common word of another Latin-script
    language or a non-ASCII letter: a text with neither is an English headline, list or
    fragment."""
    words = text.lower().split()
    if text.translate(_TYPOGRAPHY).isascii():  # the common case: every letter is Latin
        if _looks_english(words) or _OTHER_LANGUAGE_MARKERS.isdisjoint(words):
            return False
        return len(
            _LETTER.findall(text)
        ) >= MIN_LETTERS_TO_JUDGE and _identified_as_other_language(text)
    letters = len(_LETTER.findall(text))
    if letters < MIN_LETTERS_TO_JUDGE:
        return False
    if len(_LATIN_LETTER.findall(text)) / letters < 0.5:
        return True
    return not _looks_english(words) and _identified_as_other_language(text)


def load_language_identifier() -> None:
    """Load the identifier now (about a second, once per process) instead of on the first text
    that needs it: for servers and benchmarks that should not pay it mid-stream."""
    _identifier()
