"""Labeling functions: cue patterns for each act, with guards, each voting a label or abstaining.

They encode the codebook's clearest cues (threat verbs and ultimatums, calls and urges, offers
and agreements, attribution verbs) and its traps (negated and refused acts, economic "demand",
a "threat" that names a danger, a mining "concession"). A sentence's silver label is the
majority vote of the functions that fire, broken by the codebook's precedence.
"""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from data.labels import PRECEDENCE

ABSTAIN = None


@dataclass(frozen=True)
class LabelingFunction:
    name: str
    label: str
    fires: Callable[[str], bool]

    def __call__(self, text: str) -> str | None:
        return self.label if self.fires(text) else ABSTAIN


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


NEGATION = _rx(
    r"\b(not|never|no|refus\w*|reject\w*|den(y|ied|ies)|declin\w*|rul\w+ out|"
    r"won't|will not|would not|wouldn't|did not|didn't)\b"
)
ATTRIBUTION = _rx(
    r"\b(said|says|told|added|according to|stated|noted|argued|insisted that|"
    r"warned that|announced|declared)\b"
)
THREAT_CUE = _rx(
    r"\b(threaten\w*|retaliat\w*|countermeasure\w*|or face|ultimatum|"
    r"sanction\w* (would|will)|will respond|all options|sit idly by|"
    r"reserves? the right|stands? ready to (respond|act|retaliate)|"
    r"will (impose|cut off|halt|block|veto|walk out|strike|seize)|"
    r"could (impose|retaliate|walk away)|prepared to (retaliate|strike))\b"
)
THREAT_NOUN_DANGER = _rx(
    r"\b(a|the|major|serious|security|existential|biggest|greatest) "
    r"threats? (to|of|from)\b|\bthreaten(s|ed|ing)? (crops|homes|jobs|"
    r"the recovery|growth|supplies|species)\b"
)
DEMAND_CUE = _rx(
    r"\b(urg\w+|call(s|ed)? (on|for|upon)|demand(s|ed|ing)? (that|the|a|an|to)|"
    r"insist\w* (that|on)|press(es|ed)? \w+ to|must|should|it is (urgent|vital|"
    r"essential|time) (that|for|to)|we (ask|expect)|appeal\w* (to|for)|"
    r"request\w* (that|the))\b"
)
ECONOMIC_DEMAND = _rx(
    r"\b(demand (for|from)|(consumer|domestic|global|weak|strong|oil|fuel|"
    r"import|export) demand)\b"
)
CONCESSION_CUE = _rx(
    r"\b(agree\w* to|offer\w*|accept\w*|will lift|lift(ed|s)? (the|its)|"
    r"eas(e|ed|es|ing) (the|its)|withdr(ew|aw\w*) (its|the)|drop(ped|s)? "
    r"(its|the) (demand|objection)|willing to|apologi[sz]\w*|release\w* "
    r"\d+|compromise|conced\w*)\b"
)
CONCESSION_OTHER_SENSE = _rx(
    r"\b(mining|oil|timber|gas|land|forest|concessional|concession "
    r"stand)\b"
)
REPORTED_ANALYSTS = _rx(r"\b(analysts?|economists?|experts?|traders?|observers?|critics)\b")
# Compiled once here, not per call: the functions run over every sentence of an archive.
REFUSED_DEMAND = _rx(
    r"\b(reject\w*|refus\w*|den(y|ied)|ignor\w*) (the |their |its )?(demand|call|request)"
)
BACK_DOWN = _rx(r"\bback down|bow to|give in\b")
FIRST_PERSON = _rx(r"\b(we|our|i)\b")
DATELINE = re.compile(r"^[A-Z][A-Z .'-]{2,40}, [A-Z][a-z]+\.? \d{1,2} - ")


def _threat(text: str) -> bool:
    return (
        bool(THREAT_CUE.search(text))
        and not NEGATION.search(text)
        and not THREAT_NOUN_DANGER.search(text)
    )


def _demand(text: str) -> bool:
    return (
        bool(DEMAND_CUE.search(text))
        and not ECONOMIC_DEMAND.search(text)
        and not REFUSED_DEMAND.search(text)
    )


def _concession(text: str) -> bool:
    return (
        bool(CONCESSION_CUE.search(text))
        and not NEGATION.search(text)
        and not CONCESSION_OTHER_SENSE.search(text)
    )


def _refused_act(text: str) -> bool:
    return bool(NEGATION.search(text)) and bool(
        THREAT_CUE.search(text) or CONCESSION_CUE.search(text) or BACK_DOWN.search(text)
    )


def _attributed(text: str) -> bool:
    return bool(ATTRIBUTION.search(text)) and not REPORTED_ANALYSTS.search(text)


def _narration(text: str) -> bool:
    unattributed = not ATTRIBUTION.search(text) and not FIRST_PERSON.search(text)
    return bool(DATELINE.match(text)) or (
        unattributed
        and not (THREAT_CUE.search(text) or DEMAND_CUE.search(text) or CONCESSION_CUE.search(text))
    )


def _analysts(text: str) -> bool:
    return bool(REPORTED_ANALYSTS.search(text)) and bool(ATTRIBUTION.search(text))


LABELING_FUNCTIONS: tuple[LabelingFunction, ...] = (
    LabelingFunction("threat_cue", "threat", _threat),
    LabelingFunction("demand_cue", "demand", _demand),
    LabelingFunction("concession_cue", "concession", _concession),
    LabelingFunction("refused_act_is_claim", "claim", _refused_act),
    LabelingFunction("attributed_assertion", "claim", _attributed),
    LabelingFunction("unattributed_narration", "other", _narration),
    LabelingFunction("unnamed_analysts_are_other", "other", _analysts),
)


def votes(text: str, functions=LABELING_FUNCTIONS) -> list[str | None]:
    """Each function's vote; every function abstains on an empty sentence."""
    if not text.strip():
        return [ABSTAIN] * len(functions)
    return [lf(text) for lf in functions]


def majority_label(sentence_votes: list[str | None]) -> str | None:
    """Most frequent vote; ties broken by the codebook's precedence; None when all abstain."""
    counts = Counter(v for v in sentence_votes if v is not None)
    if not counts:
        return None
    top = max(counts.values())
    return min((lab for lab, n in counts.items() if n == top), key=PRECEDENCE.index)
