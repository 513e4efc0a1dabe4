"""Checks between fields: an end date may not precede its start date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from forms import InvalidAnswer, SpecError, load_spec, load_specs, validate_submission
from forms.answers import check_against, load_city

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_specs(ROOT / "data" / "forms")["sondernutzungserlaubnis"]
CONTEXT = load_city(ROOT / "data" / "catalogue" / "city.yml", date(2026, 12, 2))
ANSWERS = {
    "nutzung": "container",
    "beschreibung": "Ein Bauschuttcontainer für die Renovierung.",
    "strasse": "Schillerstraße 14",
    "von": "2026-12-15",
    "bis": "2026-12-20",
    "flaeche": "12.50",
    "verkehr_betroffen": False,
    "antragsteller_art": "privat",
    "name": "Thomas Berg",
    "telefon": "+491712345678",
    "email": "thomas.berg@example.org",
}


def test_an_end_after_the_start_is_accepted() -> None:
    answers, errors = validate_submission(SPEC, ANSWERS, CONTEXT)
    assert errors == {}
    assert answers["bis"] == "2026-12-20"


@pytest.mark.parametrize("end", ["2026-12-14", "2026-12-10"])
def test_an_end_before_the_start_is_refused(end: str) -> None:
    _, errors = validate_submission(SPEC, {**ANSWERS, "bis": end}, CONTEXT)
    assert errors == {"bis": "Das Datum darf nicht vor „Beginn“ liegen (15. Dezember 2026)."}


def test_the_same_day_is_allowed() -> None:
    check_against(SPEC, SPEC.field("bis"), "2026-12-15", {"von": "2026-12-15"})
    with pytest.raises(InvalidAnswer):
        check_against(SPEC, SPEC.field("bis"), "2026-12-14", {"von": "2026-12-15"})


def test_not_before_must_name_an_earlier_date_field(tmp_path: Path) -> None:
    text = (ROOT / "data" / "forms" / "sondernutzungserlaubnis.yml").read_text(encoding="utf-8")
    broken = tmp_path / "sondernutzungserlaubnis.yml"
    broken.write_text(text.replace("not_before: von", "not_before: flaeche"), encoding="utf-8")
    with pytest.raises(SpecError, match="not_before names an earlier date field"):
        load_spec(broken)
