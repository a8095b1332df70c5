"""CheckList-style behavioural tests of a parley classifier: what a model does, not how often.

Three kinds of test, after Ribeiro et al. (2020), "Beyond Accuracy: Behavioral Testing of NLP
Models with CheckList":

- MFT (minimum functionality): short sentences made from templates, each with the label the
  spec gives it, including negated and refused acts and the other senses of the act words.
- INV (invariance): perturbations that must not change the predicted label.
- DIR (directional): edits that must not move one label's probability the wrong way.

Templates and fillers are data, in `behaviour_templates.yaml` next to this module (like
data/corpus, it is read from the source tree). Every filler (invented names, small countries,
invented unions and companies, commodities, numbers) is absent from the embedded corpus, so a
model cannot pass by remembering training sentences; tests/test_behaviour.py greps the corpus to
keep it that way.

Everything is seeded: `run_behaviour_suite(classifier, seed)` gives the same cases, the same
perturbations and (for a deterministic model) the same report every time.
"""

import json
import os
import random
import re
import string
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml

from data.labels import LABEL_TO_ID, LABELS, LabelError, check_label
from models.base import Classifier

SUITE_VERSION = "1.0"

# Pass marks from the task brief: a capability counts as learned at 90% of its cases, and a
# perturbation or edit may misbehave on at most 5% of them.
TARGETS = {"mft_pass_rate": 0.9, "inv_flip_rate": 0.05, "dir_violation_rate": 0.05}

# A DIR edit "moves the probability the wrong way" only beyond this margin: a model that shifts
# P(threat) from 0.031 to 0.030 when a threat is made more explicit has not misbehaved.
DIR_TOLERANCE = 0.05

MFT_PER_TEMPLATE = 5  # fillings per MFT template
DIR_PER_TEMPLATE = 10  # fillings per template used as a DIR base sentence
MAX_EXAMPLES = 10  # failures / flips / violations kept in the report per test

TEMPLATES_FILE = Path(__file__).with_name("behaviour_templates.yaml")

# Tags on a template say which perturbations and edits make sense for its sentences (the YAML
# file's header explains each).
ATTRIBUTED = "attributed"
OPEN_END = "open_end"
EMBEDDABLE = "embeddable"
MUST = "must"
TAGS = frozenset({ATTRIBUTED, OPEN_END, EMBEDDABLE, MUST})


class SuiteError(ValueError):
    """A malformed templates file."""


@dataclass(frozen=True)
class Template:
    """A sentence pattern with `{slot}` fields, the label the spec gives it, and its tags."""

    label: str
    capability: str
    text: str
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def slots(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.text) if name)


def slot_list(slot: str) -> str:
    """The filler list a slot draws from: "country2" draws from "country"."""
    return slot.rstrip("0123456789")


def _check_template(template: Template, lists: dict[str, tuple[str, ...]]) -> None:
    try:
        check_label(template.label)
    except LabelError as e:
        raise SuiteError(f"{template.text!r}: {e}") from None
    if unknown := template.tags - TAGS:
        raise SuiteError(f"{template.text!r}: unknown tags {sorted(unknown)}")
    if unknown := {s for s in template.slots if slot_list(s) not in lists}:
        raise SuiteError(f"{template.text!r}: no filler list for {sorted(unknown)}")


def parse_suite(raw: dict) -> tuple[dict[str, tuple[str, ...]], tuple[Template, ...]]:
    """Fillers and templates from the YAML structure (see behaviour_templates.yaml)."""
    lists = {name: tuple(str(v) for v in values) for name, values in raw["fillers"].items()}
    patterns = tuple(
        Template(group["label"], group["capability"], t["text"], frozenset(t.get("tags", ())))
        for group in raw["groups"]
        for t in group["templates"]
    )
    for template in patterns:
        _check_template(template, lists)
    return lists, patterns


@cache
def load_suite(
    path: Path = TEMPLATES_FILE,
) -> tuple[dict[str, tuple[str, ...]], tuple[Template, ...]]:
    """The fillers and templates in `path`, checked (labels, tags, slots)."""
    try:
        return parse_suite(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (KeyError, TypeError) as e:
        raise SuiteError(f"{path}: malformed behaviour templates ({e!r})") from None


def fillers() -> dict[str, tuple[str, ...]]:
    return load_suite()[0]


def templates() -> tuple[Template, ...]:
    return load_suite()[1]


@dataclass(frozen=True)
class Case:
    """One filled template: the sentence, the label the spec gives it, and how it was made."""

    text: str
    template: Template
    fills: dict[str, str]

    @property
    def expected(self) -> str:
        return self.template.label


class Pair(NamedTuple):
    original: str
    perturbed: str


def _pool(slot: str) -> tuple[str, ...]:
    return fillers()[slot_list(slot)]


def render(template_text: str, fills: dict[str, str]) -> str:
    """Fill a template; the first letter is capitalised (fillers like "the X Union" start low)."""
    text = template_text.format(**fills)
    match = re.search(r"[A-Za-z]", text)
    if match is None:
        return text
    i = match.start()
    return text[:i] + text[i].upper() + text[i + 1 :]


def _draw_fills(template: Template, rng: random.Random) -> dict[str, str]:
    """One value per slot; slots sharing a list ("country", "country2") get different values."""
    fills: dict[str, str] = {}
    for slot in dict.fromkeys(template.slots):
        taken = set(fills.values())
        fills[slot] = rng.choice([v for v in _pool(slot) if v not in taken])
    return fills


def fill_template(template: Template, n: int, rng: random.Random) -> list[Case]:
    """`n` cases with distinct texts (fewer only if the fillers cannot make `n`)."""
    cases: dict[str, Case] = {}
    for _ in range(n * 20):
        if len(cases) == n:
            break
        fills = _draw_fills(template, rng)
        text = render(template.text, fills)
        cases.setdefault(text, Case(text, template, fills))
    return list(cases.values())


def build_mft_cases(seed: int = 0) -> list[Case]:
    """Every template filled MFT_PER_TEMPLATE times, in template order."""
    rng = random.Random(f"mft-{seed}")
    return [case for t in templates() for case in fill_template(t, MFT_PER_TEMPLATE, rng)]


# ---
# Invariance perturbations. Each takes a case and an RNG and returns (original, perturbed), or
# None where it does not apply (nothing to swap, no quote to curl, ...).


def _changed(case: Case, perturbed: str | None) -> Pair | None:
    return Pair(case.text, perturbed) if perturbed and perturbed != case.text else None


def _swap_slots(case: Case, slots: tuple[str, ...], rng: random.Random) -> Pair | None:
    """Re-render the case with every slot of `slots` it has given a new, different filler."""
    present = [s for s in slots if s in case.fills]
    if not present:
        return None
    fills = dict(case.fills)
    for slot in present:
        taken = set(fills.values())
        fills[slot] = rng.choice([v for v in _pool(slot) if v not in taken])
    return _changed(case, render(case.template.text, fills))


def swap_names(case: Case, rng: random.Random) -> Pair | None:
    return _swap_slots(case, ("person",), rng)


def swap_countries(case: Case, rng: random.Random) -> Pair | None:
    return _swap_slots(case, ("country", "country2"), rng)


def swap_organisations(case: Case, rng: random.Random) -> Pair | None:
    return _swap_slots(case, ("org", "company"), rng)


def swap_numbers(case: Case, rng: random.Random) -> Pair | None:
    return _swap_slots(case, ("number",), rng)


def curly_quotes(text: str) -> str:
    """Straight quotes to typographic ones: double quotes alternate open/close, ' becomes ’."""
    parts = text.split('"')
    out = parts[0]
    for i, part in enumerate(parts[1:]):
        out += ("\u201c" if i % 2 == 0 else "\u201d") + part
    return out.replace("'", "\u2019")


def curl_quotes(case: Case, rng: random.Random) -> Pair | None:
    return _changed(case, curly_quotes(case.text))


DATELINES = ("GENEVA, May 4 - ", "VADUZ, March 12 - ", "APIA, Oct 3 - ", "THIMPHU, June 21 - ")


def add_dateline(case: Case, rng: random.Random) -> Pair | None:
    return _changed(case, rng.choice(DATELINES) + case.text)


ATTRIBUTIONS = (", a spokesman added.", ", a spokeswoman added.", ", an official added.")


def add_attribution(case: Case, rng: random.Random) -> Pair | None:
    """A second attribution, only where a party already speaks (on narration it would turn
    `other` into `claim`, a legitimate change)."""
    if ATTRIBUTED not in case.template.tags or not case.text.endswith("."):
        return None
    return _changed(case, case.text[:-1] + rng.choice(ATTRIBUTIONS))


# A country slot in mid-sentence, not possessive and not before a full stop, takes "the United
# States" / "the U.S." without other edits ("tariffs on the U.S. if ...").
_US_SLOT = re.compile(r"(?<=\w )\{(country2?)\}(?![.'])")


def us_spelling(case: Case, rng: random.Random) -> Pair | None:
    """The case with one country as "the United States", and the same with "the U.S."; both
    sides are new sentences, since no filler is the United States."""
    match = _US_SLOT.search(case.template.text)
    if match is None:
        return None
    slot = match.group(1)
    return Pair(
        render(case.template.text, {**case.fills, slot: "the United States"}),
        render(case.template.text, {**case.fills, slot: "the U.S."}),
    )


def typo(text: str, rng: random.Random, min_length: int = 7) -> str | None:
    """Swap two adjacent, different inner letters of one word of `min_length`+ letters."""
    words = list(re.finditer(rf"[A-Za-z]{{{min_length},}}", text))
    rng.shuffle(words)
    for word in words:
        w = word.group()
        # Keep the first and last letters: readers (and typo studies) find those robust.
        spots = [i for i in range(1, len(w) - 2) if w[i] != w[i + 1]]
        if spots:
            i = rng.choice(spots)
            swapped = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
            return text[: word.start()] + swapped + text[word.end() :]
    return None


def add_typo(case: Case, rng: random.Random) -> Pair | None:
    return _changed(case, typo(case.text, rng))


Perturbation = Callable[[Case, random.Random], Pair | None]

INV_TESTS: dict[str, tuple[str, Perturbation]] = {
    "swap_names": ("another invented person's name", swap_names),
    "swap_countries": ("other small countries", swap_countries),
    "swap_organisations": ("other invented unions and companies", swap_organisations),
    "swap_numbers": ("another number", swap_numbers),
    "curly_quotes": ("straight quotes and apostrophes made typographic", curl_quotes),
    "dateline": ('a dateline in front ("GENEVA, May 4 - ")', add_dateline),
    "trailing_attribution": (
        'a second attribution on an attributed sentence (", a spokesman added.")',
        add_attribution,
    ),
    "us_united_states": ('"the United States" written "the U.S."', us_spelling),
    "typo": ("two adjacent letters swapped in one long word", add_typo),
}


def build_inv_pairs(cases: list[Case], seed: int = 0) -> dict[str, list[Pair]]:
    """For each INV test, a pair for every case its perturbation applies to."""
    pairs: dict[str, list[Pair]] = {}
    for name, (_, perturb) in INV_TESTS.items():
        rng = random.Random(f"inv-{name}-{seed}")
        pairs[name] = [p for p in (perturb(case, rng) for case in cases) if p is not None]
    return pairs


# ---
# Directional edits: each takes a base case and an RNG and returns the edited sentence.


def append_consequences(case: Case, rng: random.Random) -> str | None:
    """Turn a demand into an ultimatum: "... to lift the ban or face the consequences."."""
    text = case.text
    return text[:-1] + " or face the consequences." if text.endswith(".") else None


_WRAP_LOWER = {"The", "A", "An"}


def wrap_denied(text: str, person: str) -> str:
    """ "X denied that <sentence>": the act becomes a denial, which is a claim."""
    first, _, rest = text.partition(" ")
    if first in _WRAP_LOWER:
        first = first.lower()
    return f"{person} denied that {first} {rest}"


def deny(case: Case, rng: random.Random) -> str | None:
    people = [p for p in fillers()["person"] if p not in case.fills.values()]
    return wrap_denied(case.text, rng.choice(people))


# Short verbs whose final consonant doubles before -ing.
_DOUBLE_FINAL = {"cut", "stop", "drop", "scrap", "ship", "plan"}


def gerund(verb: str) -> str:
    if verb in _DOUBLE_FINAL:
        return verb + verb[-1] + "ing"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


def soften_must(text: str) -> str | None:
    """ "must lift" -> "might consider lifting": the same call, made much weaker."""
    softened = re.sub(
        r"\bmust (\w+)", lambda m: f"might consider {gerund(m.group(1))}", text, count=1
    )
    return softened if softened != text else None


def soften(case: Case, rng: random.Random) -> str | None:
    return soften_must(case.text)


@dataclass(frozen=True)
class DirTest:
    description: str
    label: str  # whose probability is watched
    must_not: str  # "fall" or "rise"
    base_label: str  # templates of this label that carry `tag` give the base sentences
    tag: str
    edit: Callable[[Case, random.Random], str | None]


DIR_TESTS: dict[str, DirTest] = {
    "or_face_consequences": DirTest(
        'appending "or face the consequences" to a demand must not lower P(threat)',
        "threat",
        "fall",
        "demand",
        OPEN_END,
        append_consequences,
    ),
    "denied_that": DirTest(
        'wrapping a concession as "X denied that ..." must not raise P(concession)',
        "concession",
        "rise",
        "concession",
        EMBEDDABLE,
        deny,
    ),
    "must_to_might_consider": DirTest(
        'softening "must" to "might consider" must not raise P(demand)',
        "demand",
        "rise",
        "demand",
        MUST,
        soften,
    ),
}


def build_dir_pairs(seed: int = 0) -> dict[str, list[Pair]]:
    """Fresh fillings (DIR_PER_TEMPLATE per template) of the templates each DIR test uses."""
    pairs: dict[str, list[Pair]] = {}
    for name, test in DIR_TESTS.items():
        rng = random.Random(f"dir-{name}-{seed}")
        bases = [t for t in templates() if t.label == test.base_label and test.tag in t.tags]
        cases = [c for t in bases for c in fill_template(t, DIR_PER_TEMPLATE, rng)]
        edited = [(c, test.edit(c, rng)) for c in cases]
        pairs[name] = [Pair(c.text, e) for c, e in edited if e is not None]
    return pairs


# ---
# Scoring.


class BatchScorer:
    """Probabilities from one `predict_proba` call per group of texts; a text already scored is
    never sent again (INV originals are the MFT sentences)."""

    def __init__(self, classifier: Classifier):
        self.classifier = classifier
        self.calls = 0
        self._cache: dict[str, np.ndarray] = {}

    def probs(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self.calls += 1
            rows = np.asarray(self.classifier.predict_proba(missing), dtype=float)
            self._cache.update(zip(missing, rows, strict=True))
        if not texts:
            return np.zeros((0, len(LABELS)))
        return np.stack([self._cache[t] for t in texts])

    def labels(self, texts: list[str]) -> list[str]:
        return [LABELS[i] for i in self.probs(texts).argmax(axis=1)]


def _rate(count: int, n: int) -> float | None:
    return count / n if n else None


def _at_least(rate: float | None, target: float) -> bool:
    return rate is not None and rate >= target


def _at_most(rate: float | None, target: float) -> bool:
    return rate is not None and rate <= target


def _by_capability(scored: list[tuple[Case, str]]) -> dict:
    """n and pass rate per capability, so a label's rate can be read apart (negations, ...)."""
    groups: dict[str, list[bool]] = {}
    for case, got in scored:
        groups.setdefault(case.template.capability, []).append(got == case.expected)
    return {k: {"n": len(v), "pass_rate": sum(v) / len(v)} for k, v in groups.items()}


def mft_result(scorer: BatchScorer, cases: list[Case]) -> dict:
    """Per expected label: n, pass rate, pass/fail against the target, the first failures,
    and the same figures per capability (plain acts, negated acts, other word senses)."""
    got = scorer.labels([c.text for c in cases])
    result = {}
    for label in LABELS:
        mine = [(c, g) for c, g in zip(cases, got, strict=True) if c.expected == label]
        failures = [
            {"text": c.text, "expected": label, "got": g, "capability": c.template.capability}
            for c, g in mine
            if g != label
        ]
        rate = _rate(len(mine) - len(failures), len(mine))
        result[label] = {
            "n": len(mine),
            "pass_rate": rate,
            "passed": _at_least(rate, TARGETS["mft_pass_rate"]),
            "by_capability": _by_capability(mine),
            "failures": failures[:MAX_EXAMPLES],
        }
    return result


def inv_result(scorer: BatchScorer, pairs: list[Pair], description: str = "") -> dict:
    """Share of pairs whose predicted label differs between original and perturbed text."""
    labels = scorer.labels([p.original for p in pairs] + [p.perturbed for p in pairs])
    before, after = labels[: len(pairs)], labels[len(pairs) :]
    flips = [
        {"original": p.original, "perturbed": p.perturbed, "before": b, "after": a}
        for p, b, a in zip(pairs, before, after, strict=True)
        if b != a
    ]
    rate = _rate(len(flips), len(pairs))
    return {
        "description": description,
        "n": len(pairs),
        "flips": len(flips),
        "flip_rate": rate,
        "passed": _at_most(rate, TARGETS["inv_flip_rate"]),
        "examples": flips[:MAX_EXAMPLES],
    }


def dir_result(
    scorer: BatchScorer,
    pairs: list[Pair],
    label: str,
    must_not: str,
    tolerance: float = DIR_TOLERANCE,
    description: str = "",
) -> dict:
    """Share of pairs where P(label) moves the forbidden way (`must_not` "fall" or "rise") by
    more than `tolerance`."""
    if must_not not in ("fall", "rise"):
        raise ValueError(f"must_not is 'fall' or 'rise', not {must_not!r}")
    column = LABEL_TO_ID[label]
    probs = scorer.probs([p.original for p in pairs] + [p.perturbed for p in pairs])[:, column]
    before, after = probs[: len(pairs)], probs[len(pairs) :]
    change = after - before
    wrong = change < -tolerance if must_not == "fall" else change > tolerance
    violations = [
        {
            "original": p.original,
            "perturbed": p.perturbed,
            "p_before": float(b),
            "p_after": float(a),
        }
        for p, b, a, w in zip(pairs, before, after, wrong, strict=True)
        if w
    ]
    rate = _rate(len(violations), len(pairs))
    return {
        "description": description,
        "label": label,
        "must_not": must_not,
        "tolerance": tolerance,
        "n": len(pairs),
        "violations": len(violations),
        "violation_rate": rate,
        "mean_change": float(change.mean()) if len(pairs) else None,
        "passed": _at_most(rate, TARGETS["dir_violation_rate"]),
        "examples": violations[:MAX_EXAMPLES],
    }


def run_behaviour_suite(
    classifier: Classifier, seed: int = 0, tolerance: float = DIR_TOLERANCE
) -> dict:
    """Run every MFT, INV and DIR test on `classifier`; a JSON-able report.

    Predictions are batched: one `predict_proba` call per group of texts (the MFT sentences,
    then each INV and DIR test), never one per sentence."""
    scorer = BatchScorer(classifier)
    cases = build_mft_cases(seed)
    mft = mft_result(scorer, cases)
    inv = {
        name: inv_result(scorer, pairs, INV_TESTS[name][0])
        for name, pairs in build_inv_pairs(cases, seed).items()
    }
    dirs = {
        name: dir_result(scorer, pairs, test.label, test.must_not, tolerance, test.description)
        for (name, pairs), test in zip(
            build_dir_pairs(seed).items(), DIR_TESTS.values(), strict=True
        )
    }
    results = [*mft.values(), *inv.values(), *dirs.values()]
    return {
        "suite_version": SUITE_VERSION,
        "classifier": getattr(classifier, "kind", type(classifier).__name__),
        "seed": seed,
        "targets": {**TARGETS, "dir_tolerance": tolerance},
        "counts": {
            "mft": sum(r["n"] for r in mft.values()),
            "inv": sum(r["n"] for r in inv.values()),
            "dir": sum(r["n"] for r in dirs.values()),
            "predict_proba_calls": scorer.calls,
        },
        "mft": mft,
        "inv": inv,
        "dir": dirs,
        "passed": all(r["passed"] for r in results),
    }


# ---
# Report files.


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _mark(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _mft_lines(report: dict) -> list[str]:
    target = _pct(report["targets"]["mft_pass_rate"])
    lines = [
        f"## Minimum functionality (target: pass rate >= {target})",
        "",
        "| label | n | pass rate | by capability | result |",
        "|---|---:|---:|---|---|",
    ]
    for label, r in report["mft"].items():
        caps = ", ".join(f"{k} {_pct(v['pass_rate'])}" for k, v in r["by_capability"].items())
        lines.append(
            f"| {label} | {r['n']} | {_pct(r['pass_rate'])} | {caps} | {_mark(r['passed'])} |"
        )
    failures = [f for r in report["mft"].values() for f in r["failures"]]
    if failures:
        lines += [
            "",
            "First failures per label:",
            "",
            "| expected | got | text |",
            "|---|---|---|",
        ]
        lines += [f"| {f['expected']} | {f['got']} | {_cell(f['text'])} |" for f in failures]
    return lines


def _inv_lines(report: dict) -> list[str]:
    target = _pct(report["targets"]["inv_flip_rate"])
    lines = [
        f"## Invariance (target: flip rate <= {target})",
        "",
        "| perturbation | n | flips | flip rate | result |",
        "|---|---:|---:|---:|---|",
    ]
    for name, r in report["inv"].items():
        lines.append(
            f"| {name}: {r['description']} | {r['n']} | {r['flips']} | {_pct(r['flip_rate'])} "
            f"| {_mark(r['passed'])} |"
        )
    flips = [(name, e) for name, r in report["inv"].items() for e in r["examples"][:3]]
    if flips:
        lines += [
            "",
            "Examples of flips:",
            "",
            "| perturbation | before -> after | original | perturbed |",
        ]
        lines += ["|---|---|---|---|"]
        lines += [
            f"| {name} | {e['before']} -> {e['after']} | {_cell(e['original'])} "
            f"| {_cell(e['perturbed'])} |"
            for name, e in flips
        ]
    return lines


def _dir_lines(report: dict) -> list[str]:
    target = _pct(report["targets"]["dir_violation_rate"])
    tolerance = report["targets"]["dir_tolerance"]
    lines = [
        f"## Directional (target: violation rate <= {target}; a change within {tolerance} "
        "is not a violation)",
        "",
        "| test | n | violations | violation rate | mean change | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r in report["dir"].items():
        mean = "n/a" if r["mean_change"] is None else f"{r['mean_change']:+.3f}"
        lines.append(
            f"| {name}: {r['description']} | {r['n']} | {r['violations']} | "
            f"{_pct(r['violation_rate'])} | {mean} | {_mark(r['passed'])} |"
        )
    examples = [(name, e) for name, r in report["dir"].items() for e in r["examples"][:3]]
    if examples:
        lines += [
            "",
            "Examples of violations:",
            "",
            "| test | P before -> after | original | edited |",
        ]
        lines += ["|---|---|---|---|"]
        lines += [
            f"| {name} | {e['p_before']:.3f} -> {e['p_after']:.3f} | {_cell(e['original'])} "
            f"| {_cell(e['perturbed'])} |"
            for name, e in examples
        ]
    return lines


def summary_markdown(report: dict) -> str:
    counts = report["counts"]
    lines = [
        f"# Behavioural tests: {report['classifier']}",
        "",
        f"Overall: **{_mark(report['passed'])}** (suite {report['suite_version']}, seed "
        f"{report['seed']}; {counts['mft']} MFT cases, {counts['inv']} INV pairs, "
        f"{counts['dir']} DIR pairs).",
        "",
        *_mft_lines(report),
        "",
        *_inv_lines(report),
        "",
        *_dir_lines(report),
        "",
    ]
    return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_behaviour_report(report: dict, out_dir: str | Path) -> Path:
    """Write `behavioral_report.json` and `behavioral_summary.md` into `out_dir`, each
    atomically; returns the path of the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "behavioral_report.json", json.dumps(report, indent=2) + "\n")
    summary = out / "behavioral_summary.md"
    _write_atomic(summary, summary_markdown(report))
    return summary
