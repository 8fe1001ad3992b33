from __future__ import annotations

from typing import Any

import pytest

from releasewise.domain.assessment import diff_documents, parse_assessment, to_document
from releasewise.errors import InvalidInput
from tests.domain.test_scoring import example_document


def test_round_trip_through_the_canonical_document() -> None:
    parsed = parse_assessment(example_document(), known_assets={"weights", "paper"})
    assert parse_assessment(to_document(parsed)) == parsed
    assert to_document(parsed)["schema"] == "releasewise.assessment/1"


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d["scenarios"][0]["scores"].pop("scale"), "scenarios[0].scores.scale: is missing"),
    (lambda d: d["scenarios"][0]["scores"].__setitem__("severity", {"score": 7, "rationale": "x"}),
     "scenarios[0].scores.severity.score: must be a whole number from 1 to 5"),
    (lambda d: d["scenarios"][0].__setitem__("actor", "hacker"), "scenarios[0].actor: 'hacker' is not one of"),
    (lambda d: d["scenarios"][0].__setitem__("enabling_assets", ["gpu-cluster"]), "'gpu-cluster' is not an asset"),
    (lambda d: d.__setitem__("colour", "red"), "colour: is not a field"),
    (lambda d: d["counterfactual"].__setitem__("availability", "maybe"), "counterfactual.availability"),
    (lambda d: d["benefits"].pop("societal"), "benefits.societal: is missing"),
    (lambda d: d["scenarios"][0]["scores"]["deployment"].__setitem__("rationale", ""),
     "scenarios[0].scores.deployment.rationale: is required"),
    (lambda d: d.__setitem__("scenarios", []), "list at least one misuse scenario"),
])
def test_problems_name_the_field(mutate: Any, expected: str) -> None:
    doc = example_document()
    mutate(doc)
    with pytest.raises(InvalidInput) as err:
        parse_assessment(doc, known_assets={"weights", "paper"})
    assert expected in err.value.message


def test_line_numbers_are_reported_when_known() -> None:
    doc = example_document()
    doc["scenarios"][0]["actor"] = "hacker"
    with pytest.raises(InvalidInput, match=r"scenarios\[0\].actor \(line 12\)"):
        parse_assessment(doc, lines={"scenarios[0].actor": 12})


def test_diff_reports_changed_fields_by_scenario_id() -> None:
    old = to_document(parse_assessment(example_document()))
    new_doc = example_document()
    new_doc["scenarios"][0]["scores"]["deployment"]["score"] = 3
    new_doc["defenses"]["score"] = 4
    changes = diff_documents(old, to_document(parse_assessment(new_doc)))
    paths = {path: (a, b) for path, a, b in changes}
    assert paths["scenarios[ceo-fraud].scores.deployment.score"] == (5, 3)
    assert paths["defenses.score"] == (2, 4)
    assert len(changes) == 2
