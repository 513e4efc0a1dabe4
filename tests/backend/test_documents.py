"""The documents: the PDFs really hold the answers (German characters included), each
department's part holds only its fields, and the XML record escapes what needs escaping."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdf
import pytest

from backend.app.documents import (
    ApplicationRecord,
    DepartmentPart,
    DocumentSetupError,
    application_pdf,
    check_fonts,
    department_pdf,
    department_xml,
)
from backend.app.submissions import routed_parts
from forms.spec import FormSpec, load_spec
from tests.backend.builders import MOVE_SPEC, move_answers, parking_answers
from tests.backend.conftest import ROOT, WEDNESDAY_MORNING

FONTS = Path("/usr/share/fonts/truetype/dejavu")


def parse_xml(document: bytes) -> ET.Element:
    return ET.fromstring(document)  # noqa: S314 - our own output, not untrusted input


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture(scope="module")
def parking() -> FormSpec:
    return load_spec(ROOT / "data" / "forms" / "bewohnerparkausweis.yml")


@pytest.fixture(scope="module")
def move(tmp_path_factory: pytest.TempPathFactory) -> FormSpec:
    path = tmp_path_factory.mktemp("forms") / "umzug-test.yml"
    path.write_text(MOVE_SPEC, encoding="utf-8")
    return load_spec(path)


def record(spec: FormSpec, answers: dict[str, object]) -> ApplicationRecord:
    return ApplicationRecord(
        reference="BPA-2026-483920",
        spec=spec,
        answers=answers,
        received_at=WEDNESDAY_MORNING,
        city="Musterstadt",
        channel="telegram",
    )


def parts(spec: FormSpec, answers: dict[str, object]) -> list[DepartmentPart]:
    names = {"buergerbuero": "Bürgerbüro", "gewerbeamt": "Gewerbeamt"}
    return [
        DepartmentPart(slug, names.get(slug, slug), purpose, tuple(fields))
        for slug, (fields, purpose, _) in routed_parts(spec, answers).items()
    ]


def test_the_application_pdf_holds_every_answer(parking: FormSpec) -> None:
    answers = parking_answers(nachname="Weiß-Ößmann „Zoë“ – 5 €", telefon="")
    text = text_of(application_pdf(record(parking, answers), [], FONTS))

    assert "Antrag: Bewohnerparkausweis" in text
    assert "BPA-2026-483920" in text
    assert "2. Dezember 2026, 10:00 Uhr" in text
    assert "Weiß-Ößmann „Zoë“ – 5 €" in text
    assert "Straße und Hausnummer Lindenallee 12" in text
    assert "Wohnsitz unter dieser Anschrift Hauptwohnsitz" in text
    assert "Gültig ab Montag, 7. Dezember 2026" in text
    assert "Telefon für Rückfragen keine Angabe" in text
    assert "Beispielformular" in text
    assert "Eingereicht über den digitalen Assistenten der Stadt Musterstadt" in text


def test_each_department_pdf_holds_only_its_fields(move: FormSpec) -> None:
    answers = move_answers(bemerkung="")
    routed = {part.slug: part for part in parts(move, answers)}

    civic = text_of(department_pdf(record(move, answers), routed["buergerbuero"], FONTS))
    trade = text_of(department_pdf(record(move, answers), routed["gewerbeamt"], FONTS))

    # The name goes to both departments: each answer in every place it belongs.
    assert "Jörg Öztürk" in civic and "Jörg Öztürk" in trade
    assert "Zweck Anmeldung der neuen Wohnung; Hinweis auf ein Gewerbe" in civic
    assert "12347" in civic and "12347" not in trade
    assert "Bemerkung keine Angabe" in civic
    assert "Fahrrädern & Zubehör <Laden>" in trade and "Fahrrädern" not in civic
    assert "Zweck Ummeldung des Gewerbes" in trade
    assert "Beispielformular" not in trade  # this spec is not sample data


def test_the_whole_pdf_says_who_receives_what(move: FormSpec) -> None:
    answers = move_answers()
    text = text_of(application_pdf(record(move, answers), parts(move, answers), FONTS))
    assert "Weiterleitung" in text
    assert "Gewerbeamt Ummeldung des Gewerbes Angaben: Name, Tätigkeit" in text


def test_the_same_application_renders_to_the_same_bytes(parking: FormSpec) -> None:
    part = parts(parking, parking_answers())[0]
    first = department_pdf(record(parking, parking_answers()), part, FONTS)
    assert department_pdf(record(parking, parking_answers()), part, FONTS) == first


def test_a_long_unbroken_answer_wraps_instead_of_breaking_the_pdf(move: FormSpec) -> None:
    answers = move_answers(taetigkeit="Fahrradreparatur" * 18)
    part = parts(move, answers)[1]
    assert "Fahrradreparatur" in text_of(department_pdf(record(move, answers), part, FONTS))


def test_the_xml_record_escapes_and_round_trips(move: FormSpec) -> None:
    tricky = "Zubehör <b>&amp; \"Rad\" & 'Laden' ]]> –"
    answers = move_answers(taetigkeit=tricky, bemerkung="")
    routed = {part.slug: part for part in parts(move, answers)}

    trade = parse_xml(department_xml(record(move, answers), routed["gewerbeamt"]))
    civic = parse_xml(department_xml(record(move, answers), routed["buergerbuero"]))

    assert trade.tag == "application"
    assert trade.get("reference") == "BPA-2026-483920"
    assert trade.findtext("form") == "Umzug mit Gewerbe (Test)"
    assert trade.find("form").get("id") == "umzug-test"  # type: ignore[union-attr]
    assert trade.findtext("received") == "2026-12-02T10:00:00+01:00"
    assert trade.find("department").get("slug") == "gewerbeamt"  # type: ignore[union-attr]
    assert trade.findtext("purpose") == "Ummeldung des Gewerbes"
    fields = {f.get("name"): f for f in trade.iter("field")}
    assert list(fields) == ["name", "taetigkeit"]
    assert fields["taetigkeit"].findtext("value") == tricky
    assert fields["taetigkeit"].findtext("display") == tricky
    assert fields["taetigkeit"].findtext("label") == "Tätigkeit"

    civic_fields = {f.get("name"): f for f in civic.iter("field")}
    assert list(civic_fields) == ["name", "postleitzahl", "gewerbe", "bemerkung"]
    assert civic_fields["gewerbe"].findtext("value") == "true"
    assert civic_fields["gewerbe"].findtext("display") == "ja"
    assert civic_fields["bemerkung"].get("skipped") == "true"
    assert civic_fields["bemerkung"].findtext("value") == ""
    assert civic_fields["bemerkung"].findtext("display") == "keine Angabe"


def test_a_field_the_spec_no_longer_has_is_still_shown(parking: FormSpec) -> None:
    answers = {**parking_answers(), "altes_feld": "alter Wert"}
    part = DepartmentPart("strassenverkehrsamt", "Straßenverkehrsamt", "Prüfung", ("altes_feld",))
    root = parse_xml(department_xml(record(parking, answers), part))
    [field] = root.iter("field")
    assert field.get("name") == "altes_feld"
    assert field.findtext("value") == "alter Wert"


def test_missing_fonts_stop_the_start(tmp_path: Path) -> None:
    with pytest.raises(DocumentSetupError, match="fonts-dejavu-core"):
        check_fonts(tmp_path)
    check_fonts(FONTS)
