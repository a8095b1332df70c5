"""The behavioural suite's harness, checked on keyword stubs whose every answer is known."""

import json
import random
import re
from collections import Counter

import numpy as np
import pytest

from data.labels import LABEL_TO_ID, LABELS
from models.base import Classifier
from tests.conftest import REPO
from train.behaviour import (
    DIR_TESTS,
    INV_TESTS,
    BatchScorer,
    Case,
    Pair,
    SuiteError,
    Template,
    build_dir_pairs,
    build_inv_pairs,
    build_mft_cases,
    curly_quotes,
    dir_result,
    fillers,
    inv_result,
    mft_result,
    parse_suite,
    run_behaviour_suite,
    soften_must,
    templates,
    typo,
    us_spelling,
    wrap_denied,
    write_behaviour_report,
)

CORPUS = REPO / "data" / "corpus"
WIN = 4.0  # logit of the winning label; every other label gets 0


class KeywordStub(Classifier):
    """The first rule whose keyword occurs in the lower-cased text wins; no match is `other`.

    `P(winner) = e^4 / (e^4 + 4)` and every loser gets `1 / (e^4 + 4)`, so every prediction,
    and therefore every pass, flip and violation, can be worked out by hand."""

    kind = "keyword-stub"

    def __init__(self, rules: list[tuple[str, str]]):
        self.rules = rules
        self.calls: list[int] = []

    def label_of(self, text: str) -> str:
        lowered = text.lower()
        return next((label for word, label in self.rules if word in lowered), "other")

    def _logits(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            out[i, LABEL_TO_ID[self.label_of(text)]] = WIN
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return super().predict_proba(texts)


def case(text: str, label: str) -> Case:
    return Case(text, Template(label, label, text), {})


# ---
# The three measures on hand-made inputs.


def test_mft_pass_rates_failures_and_capabilities():
    stub = KeywordStub([("warned", "threat"), ("urged", "demand"), ("denied", "claim")])
    cases = [
        case("Palau warned Tonga.", "threat"),  # pass
        case("Palau threatened Tonga.", "threat"),  # fails: other
        case("Palau urged Tonga to act.", "demand"),  # pass
        case("Palau denied threatening Tonga.", "claim"),  # pass
        case("Palau said it would act.", "claim"),  # fails: other
    ]
    result = mft_result(BatchScorer(stub), cases)
    assert result["threat"]["n"] == 2 and result["threat"]["pass_rate"] == 0.5
    assert result["threat"]["failures"] == [
        {
            "text": "Palau threatened Tonga.",
            "expected": "threat",
            "got": "other",
            "capability": "threat",
        }
    ]
    assert result["demand"] == {
        "n": 1,
        "pass_rate": 1.0,
        "passed": True,
        "by_capability": {"demand": {"n": 1, "pass_rate": 1.0}},
        "failures": [],
    }
    assert result["claim"]["pass_rate"] == 0.5 and not result["claim"]["passed"]
    # A label with no cases has no rate and does not pass.
    assert result["concession"]["n"] == 0 and result["concession"]["pass_rate"] is None
    assert result["concession"]["passed"] is False


def test_inv_flip_rate_counts_label_changes_only():
    stub = KeywordStub([("warned", "threat"), ("urged", "demand")])
    pairs = [
        Pair("Palau warned Tonga.", "Palau warned Nauru."),  # threat -> threat
        Pair("Palau warned Tonga.", "Palau threatened Tonga."),  # threat -> other: flip
        Pair("Talks began.", "Talks resumed."),  # other -> other
        Pair("Palau urged Tonga.", "Palau warned Tonga."),  # demand -> threat: flip
    ]
    result = inv_result(BatchScorer(stub), pairs, "test")
    assert (result["n"], result["flips"], result["flip_rate"]) == (4, 2, 0.5)
    assert result["passed"] is False
    assert result["examples"][1] == {
        "original": "Palau urged Tonga.",
        "perturbed": "Palau warned Tonga.",
        "before": "demand",
        "after": "threat",
    }
    # Exactly at the target (1 flip in 20 = 0.05) still passes.
    few = [Pair("Palau warned Tonga.", "Palau threatened Tonga.")] + [Pair("a.", "b.")] * 19
    assert inv_result(BatchScorer(stub), few)["passed"] is True


def test_dir_violations_respect_direction_and_tolerance():
    stub = KeywordStub([("warned", "threat")])
    high = np.exp(WIN) / (np.exp(WIN) + 4)
    low = 1 / (np.exp(WIN) + 4)
    pairs = [
        Pair("Palau warned Tonga.", "Palau urged Tonga."),  # P(threat) falls: a violation
        Pair("Palau urged Tonga.", "Palau warned Tonga."),  # rises
        Pair("Talks began.", "Talks resumed."),  # unchanged
    ]
    result = dir_result(BatchScorer(stub), pairs, "threat", "fall")
    assert (result["n"], result["violations"]) == (3, 1)
    assert result["violation_rate"] == pytest.approx(1 / 3)
    assert result["examples"][0]["p_before"] == pytest.approx(high)
    assert result["examples"][0]["p_after"] == pytest.approx(low)
    assert result["mean_change"] == pytest.approx(0.0)
    rising = dir_result(BatchScorer(stub), pairs, "threat", "rise")
    assert rising["violations"] == 1 and rising["examples"][0]["original"] == "Palau urged Tonga."
    # A change smaller than the tolerance is no violation.
    assert dir_result(BatchScorer(stub), pairs, "threat", "fall", tolerance=1.0)["violations"] == 0
    with pytest.raises(ValueError, match="fall"):
        dir_result(BatchScorer(stub), pairs, "threat", "down")


def test_scorer_sends_each_text_once_per_group():
    stub = KeywordStub([])
    scorer = BatchScorer(stub)
    scorer.probs(["a", "b", "a"])
    scorer.probs(["a", "b"])  # all cached: no call
    scorer.probs(["b", "c", "d"])
    assert stub.calls == [2, 2] and scorer.calls == 2


# ---
# The whole suite on stubs.


@pytest.fixture(scope="module")
def constant_report():
    """Every sentence is a claim, whatever it says."""
    stub = KeywordStub([("", "claim")])
    return stub, run_behaviour_suite(stub, seed=0)


def test_constant_model_passes_claim_only_and_never_flips(constant_report):
    stub, report = constant_report
    assert report["mft"]["claim"]["pass_rate"] == 1.0 and report["mft"]["claim"]["passed"]
    for label in ("threat", "demand", "concession", "other"):
        assert report["mft"][label]["pass_rate"] == 0.0 and not report["mft"][label]["passed"]
        assert len(report["mft"][label]["failures"]) == 10
    assert all(r["flip_rate"] == 0.0 and r["passed"] for r in report["inv"].values())
    assert all(r["violation_rate"] == 0.0 and r["passed"] for r in report["dir"].values())
    assert report["passed"] is False
    json.dumps(report)  # JSON-able as it stands


def test_suite_sizes_and_batching(constant_report):
    stub, report = constant_report
    assert all(report["mft"][label]["n"] >= 40 for label in LABELS)
    assert set(report["inv"]) == set(INV_TESTS) and set(report["dir"]) == set(DIR_TESTS)
    assert all(r["n"] >= 40 for r in [*report["inv"].values(), *report["dir"].values()])
    assert report["targets"] == {
        "mft_pass_rate": 0.9,
        "inv_flip_rate": 0.05,
        "dir_violation_rate": 0.05,
        "dir_tolerance": 0.05,
    }
    # One call for the MFT sentences, at most one per INV and DIR test, never one per sentence.
    assert len(stub.calls) == report["counts"]["predict_proba_calls"]
    assert len(stub.calls) <= 1 + len(INV_TESTS) + len(DIR_TESTS)
    assert min(stub.calls) > 1
    assert stub.calls[0] == report["counts"]["mft"]


def test_keyword_model_pass_rates_match_its_rules():
    rules = [("warn", "threat"), ("urged", "demand"), ("agreed", "concession"), ("said", "claim")]
    stub = KeywordStub(rules)
    report = run_behaviour_suite(stub, seed=3)
    cases = build_mft_cases(seed=3)
    for label in LABELS:
        mine = [c for c in cases if c.expected == label]
        passes = sum(stub.label_of(c.text) == label for c in mine)
        assert report["mft"][label]["n"] == len(mine)
        assert report["mft"][label]["pass_rate"] == pytest.approx(passes / len(mine))
    # ", a spokesman added." holds none of the keywords, so it cannot change a verdict.
    assert report["inv"]["trailing_attribution"]["flips"] == 0


def test_us_spelling_flips_a_model_keyed_on_it():
    stub = KeywordStub([("u.s.", "threat")])
    report = run_behaviour_suite(stub, seed=0)
    assert report["inv"]["us_united_states"]["flip_rate"] == 1.0
    assert not report["inv"]["us_united_states"]["passed"]
    others = {k: r["flip_rate"] for k, r in report["inv"].items() if k != "us_united_states"}
    assert others == dict.fromkeys(others, 0.0)


def test_dir_violations_match_a_model_that_hears_threats_in_urging():
    # "consequences" is matched first and means `other`; "urged" means threat. Appending "or face
    # the consequences" to an "urged" sentence then drops P(threat): exactly those violate.
    stub = KeywordStub([("consequences", "other"), ("urged", "threat")])
    report = run_behaviour_suite(stub, seed=0)
    pairs = build_dir_pairs(seed=0)["or_face_consequences"]
    expected = sum("urged" in p.original for p in pairs)
    assert expected > 0
    assert report["dir"]["or_face_consequences"]["violations"] == expected
    assert report["dir"]["or_face_consequences"]["violation_rate"] == expected / len(pairs)
    assert report["dir"]["or_face_consequences"]["passed"] is (expected / len(pairs) <= 0.05)


# ---
# Cases and perturbations.


def test_fillers_do_not_occur_in_the_corpus():
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.rglob("*.txt")))
    assert len(text) > 100_000  # the corpus really was read
    # Generic words of invented organisation names ("Union", "Shipping") may well occur; the
    # whole filler and its distinctive words must not.
    generic = {
        "the", "union", "federation", "association", "dockworkers'", "teachers'", "rail",
        "workers'", "nurses'", "miners'", "airways", "freight", "lines", "mining", "group",
        "textiles", "shipping", "foods", "san",
    }  # fmt: skip
    needles = set()
    for values in fillers().values():
        for filler in values:
            needles |= {filler.lower(), *(w for w in filler.lower().split() if w not in generic)}
    # One pass over the text for all of them, as whole words.
    alternatives = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    found = sorted(set(re.findall(rf"(?<!\w)(?:{alternatives})(?!\w)", text.lower())))
    assert found == []


def test_templates_cover_every_label_and_fill_completely():
    per_label = Counter(t.label for t in templates())
    assert all(per_label[label] >= 8 for label in LABELS)
    cases = build_mft_cases(seed=0)
    assert all("{" not in c.text and "}" not in c.text for c in cases)
    assert len({c.text for c in cases}) == len(cases)
    capabilities = {(t.label, t.capability) for t in templates()}
    assert {("claim", "negated_act"), ("claim", "word_sense"), ("other", "word_sense")} <= (
        capabilities
    )


def test_cases_depend_on_the_seed_only():
    same = [c.text for c in build_mft_cases(seed=5)]
    assert same == [c.text for c in build_mft_cases(seed=5)]
    assert same != [c.text for c in build_mft_cases(seed=6)]
    cases = build_mft_cases(seed=5)
    assert build_inv_pairs(cases, seed=5) == build_inv_pairs(cases, seed=5)
    assert build_dir_pairs(seed=5) == build_dir_pairs(seed=5)


@pytest.mark.parametrize(
    ("test", "lists"),
    [
        ("swap_names", ["person"]),
        ("swap_countries", ["country"]),
        ("swap_organisations", ["org", "company"]),
        ("swap_numbers", ["number"]),
    ],
)
def test_swaps_change_only_their_fillers(test, lists):
    values = sorted((v for name in lists for v in fillers()[name]), key=len, reverse=True)
    mask = re.compile("|".join(re.escape(v) for v in values), flags=re.IGNORECASE)
    pairs = build_inv_pairs(build_mft_cases(seed=0), seed=0)[test]
    assert pairs
    for original, perturbed in pairs:
        assert original != perturbed
        assert mask.sub("X", original) == mask.sub("X", perturbed)


def test_typo_swaps_two_adjacent_inner_letters_of_one_long_word():
    text = "Negotiators from Palau reconvened on Tuesday."
    for seed in range(20):
        out = typo(text, random.Random(seed))
        changed = [(a, b) for a, b in zip(text.split(), out.split(), strict=True) if a != b]
        assert len(changed) == 1
        before, after = changed[0]
        diff = [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x != y]
        assert len(before) >= 7 and len(diff) == 2 and diff[1] == diff[0] + 1
        assert before[diff[0]] == after[diff[1]] and diff[0] > 0 and diff[1] < len(before) - 1
    assert typo(text, random.Random(1)) == typo(text, random.Random(1))
    assert typo("No long words here.", random.Random(0)) is None


def test_text_edits():
    assert (
        curly_quotes('"We agree," Palau\'s envoy said.')
        == "\u201cWe agree,\u201d Palau\u2019s envoy said."
    )
    assert (
        soften_must("Palau must halve its duties.") == "Palau might consider halving its duties."
    )
    assert soften_must("Palau must cut its duties.") == "Palau might consider cutting its duties."
    assert soften_must("Palau said it would cut its duties.") is None
    assert (
        wrap_denied("The Kelvara Dockworkers' Union dropped its demand.", "Ilse Marrowby")
        == "Ilse Marrowby denied that the Kelvara Dockworkers' Union dropped its demand."
    )
    template = Template(
        "threat", "threat", "{country} warned it would tax {country2} if it fails."
    )
    pair = us_spelling(Case("", template, {"country": "Palau", "country2": "Tonga"}), None)
    assert pair == Pair(
        "Palau warned it would tax the United States if it fails.",
        "Palau warned it would tax the U.S. if it fails.",
    )


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ({"label": "threats", "capability": "x", "templates": [{"text": "a"}]}, "unknown label"),
        ({"label": "threat", "capability": "x", "templates": [{"text": "{planet}"}]}, "planet"),
        (
            {"label": "threat", "capability": "x", "templates": [{"text": "a", "tags": ["loud"]}]},
            "unknown tags",
        ),
    ],
)
def test_malformed_templates_are_refused(group, message):
    with pytest.raises(SuiteError, match=message):
        parse_suite({"fillers": {"country": ["Palau"]}, "groups": [group]})


# ---
# Report files.


def test_report_files_are_written(constant_report, tmp_path):
    _, report = constant_report
    out = tmp_path / "behaviour"
    summary = write_behaviour_report(report, out)
    assert summary == out / "behavioral_summary.md"
    assert json.loads((out / "behavioral_report.json").read_text()) == report
    text = summary.read_text()
    assert "Overall: **FAIL**" in text
    assert f"| claim | {report['mft']['claim']['n']} | 100.0% |" in text
    assert "## Invariance" in text and "## Directional" in text
    assert "| swap_names:" in text and "| or_face_consequences:" in text
    # Written again over the old files, and no temporary file is left behind.
    write_behaviour_report(report, out)
    assert sorted(p.name for p in out.iterdir()) == [
        "behavioral_report.json",
        "behavioral_summary.md",
    ]
