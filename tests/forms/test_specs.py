"""The form specs in data/forms/: they load, fit the catalogue, and work for realistic cases.

Each spec has realistic answer sets, written the way citizens answer in the chat. Every set
must pass ``validate_submission`` (the backend's check) and reach the expected departments;
together the sets ask every conditional field and take every conditional route both ways.
No Rasa, no FastAPI, and a fixed day: Wednesday, 2 December 2026.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from forms.answers import SKIP, FormContext, InvalidAnswer, load_city, normalize
from forms.answers import validate_submission as check
from forms.spec import Field, FormSpec, Route, check_departments, load_specs

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "data" / "forms"
CATALOGUE = ROOT / "data" / "catalogue"
TODAY = date(2026, 12, 2)  # a Wednesday

SPECS = load_specs(FORMS)
SERVICES = yaml.safe_load((CATALOGUE / "services.yml").read_text(encoding="utf-8"))["services"]
DEPARTMENTS = yaml.safe_load((CATALOGUE / "departments.yml").read_text(encoding="utf-8"))[
    "departments"
]
CONTEXT = load_city(CATALOGUE / "city.yml", TODAY)

IBAN = "DE89 3704 0044 0532 0130 00"  # the well-known valid test IBAN


@dataclass(frozen=True)
class Case:
    spec: str
    name: str
    answers: dict[str, Any]
    departments: set[str]
    # Clean values expected for some answers (the rest just have to be valid).
    expect: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.spec}: {self.name}"


def person(**more: Any) -> dict[str, Any]:
    return {"vorname": "Anna", "nachname": "Schmidt", **more}


CASES = [
    # --- Bewohnerparkausweis -------------------------------------------------------------
    Case(
        "bewohnerparkausweis",
        "own car",
        person(
            strasse="Lindenallee 12",
            postleitzahl="12345",
            wohnsitz="Hauptwohnsitz",
            kennzeichen="MU-AB 123",
            halter="auf mich",
            gueltig_ab="nächsten Montag",
            email="anna@example.org",
            telefon="keine",
        ),
        {"strassenverkehrsamt"},
        expect={"halter": "selbst", "gueltig_ab": "2026-12-07", "telefon": SKIP},
    ),
    Case(
        "bewohnerparkausweis",
        "company car",
        person(
            strasse="Hauptstr. 5",
            postleitzahl="12341",
            wohnsitz="Zweitwohnsitz",
            kennzeichen="mu-xy 42",
            halter="Dienstwagen",
            halter_name="Musterfirma GmbH",
            nutzungsnachweis="ja",
            gueltig_ab="ab sofort",
            email="anna@example.org",
            telefon="0521 123456",
        ),
        {"strassenverkehrsamt"},
        expect={"halter": "firma", "kennzeichen": "MU-XY 42", "strasse": "Hauptstraße 5"},
    ),
    # --- Urkundenbestellung --------------------------------------------------------------
    Case(
        "urkundenbestellung",
        "own birth certificate by post",
        {
            "urkundenart": "Geburtsurkunde",
            "beurkundet_in_musterstadt": "ja",
            "beziehung": "meine eigene",
            "ereignis_datum": "12.03.1985",
            "ausfuehrung": "deutsch",
            "anzahl": "zwei",
            **person(),
            "versand": "per Post",
            "strasse": "Beispielweg 3",
            "postleitzahl": "54321",
            "ort": "Beispielstadt",
            "email": "anna@example.org",
        },
        {"standesamt"},
        expect={"beziehung": "selbst", "ereignis_datum": "1985-03-12", "anzahl": 2},
    ),
    Case(
        "urkundenbestellung",
        "father's death certificate, picked up",
        {
            "urkundenart": "Sterbeurkunde",
            "beurkundet_in_musterstadt": "ja genau",
            "beziehung": "meines Vaters",
            "person_name": "Karl Schmidt",
            "ereignis_datum": "3. November",
            "ausfuehrung": "Deutsche Urkunde",
            "anzahl": "5",
            **person(),
            "versand": "hole ich ab",
            "email": "anna@example.org",
        },
        {"standesamt"},
        expect={"beziehung": "eltern", "ereignis_datum": "2026-11-03", "versand": "abholung"},
    ),
    Case(
        "urkundenbestellung",
        "sister's marriage certificate, legal interest",
        {
            "urkundenart": "Heiratsurkunde",
            "beurkundet_in_musterstadt": "ja",
            "beziehung": "meiner Schwester",
            "person_name": "Eva Weber, geborene Schmidt, und Tom Weber",
            "rechtliches_interesse": "Für den Erbscheinsantrag beim Nachlassgericht.",
            "ereignis_datum": "1.6.1999",
            "ausfuehrung": "mehrsprachig",
            "anzahl": "1",
            **person(),
            "versand": "Post",
            "strasse": "Lindenallee 12",
            "postleitzahl": "12345",
            "ort": "Musterstadt",
            "email": "anna@example.org",
        },
        {"standesamt"},
        expect={"urkundenart": "eheurkunde", "beziehung": "geschwister"},
    ),
    Case(
        "urkundenbestellung",
        "funeral home with power of attorney",
        {
            "urkundenart": "Sterbeurkunde",
            "beurkundet_in_musterstadt": "ja",
            "beziehung": "Bestattungsunternehmen",
            "person_name": "Erika Muster",
            "vollmacht_liegt_vor": "jo",
            "ereignis_datum": "gestern",
            "ausfuehrung": "normal",
            "anzahl": "zehn",
            "vorname": "Jan",
            "nachname": "Becker",
            "versand": "abholen",
            "email": "info@bestattungen-becker.example",
        },
        {"standesamt"},
        expect={"beziehung": "vollmacht", "ereignis_datum": "2026-12-01", "anzahl": 10},
    ),
    # --- Hundeanmeldung ------------------------------------------------------------------
    Case(
        "hundeanmeldung",
        "labrador",
        person(
            strasse="Amselweg 7",
            postleitzahl="12343",
            hundename="Bello",
            rasse="Labrador",
            gelistet="nein",
            haltung_seit="letzten Samstag",
            weiterer_hund="nee",
            ermaessigung="nein",
            email="anna@example.org",
        ),
        {"steueramt"},
        expect={"rasse": "labrador", "gelistet": False, "haltung_seit": "2026-11-28"},
    ),
    Case(
        "hundeanmeldung",
        "rottweiler: a listed breed",
        person(
            strasse="Amselweg 7",
            postleitzahl="12343",
            hundename="Mein Hund heißt Rocky",
            rasse="Rottweiler",
            haltung_seit="01.11.2026",
            weiterer_hund="nein",
            ermaessigung="nein",
            sachkundenachweis="ja",
            haftpflicht="ja, habe ich",
            chipnummer="276098106543210",
            email="anna@example.org",
        ),
        {"steueramt", "ordnungsamt"},
        expect={"hundename": "Rocky", "rasse": "rottweiler"},
    ),
    Case(
        "hundeanmeldung",
        "bullmastiff: listed by the citizen's answer",
        person(
            strasse="Amselweg 7",
            postleitzahl="12343",
            hundename="Bruno",
            rasse="Bullmastiff",
            gelistet="ja",
            haltung_seit="seit dem 3. Oktober",
            weiterer_hund="ja",
            ermaessigung="nein",
            sachkundenachweis="nein",
            haftpflicht="ja",
            chipnummer="276098106543211",
            email="anna@example.org",
        ),
        {"steueramt", "ordnungsamt"},
        expect={"rasse": "Bullmastiff", "gelistet": True, "haltung_seit": "2026-10-03"},
    ),
    Case(
        "hundeanmeldung",
        "shepherd mix from the shelter",
        person(
            strasse="Amselweg 7",
            postleitzahl="12343",
            hundename="Luna",
            rasse="Schäferhund-Mischling",
            gelistet="nein",
            haltung_seit="15.11.",
            weiterer_hund="nein",
            ermaessigung="ja",
            ermaessigungsgrund="aus dem Tierheim",
            email="anna@example.org",
        ),
        {"steueramt"},
        expect={"rasse": "mischling", "ermaessigungsgrund": "tierheim"},
    ),
    # --- Wohnbaugrundstück ---------------------------------------------------------------
    Case(
        "wohnbaugrundstueck",
        "family with two children",
        person(
            geburtsdatum="14.05.1988",
            anschrift="Lindenallee 12, 12345 Musterstadt",
            haushalt_personen="4",
            kinder="zwei",
            juengstes_kind_alter="3",
            einkommen="40.001 bis 60.000 €",
            wohnsituation="zur Miete",
            eigentum_vorhanden="nein",
            ortsbezug="ich wohne und arbeite hier",
            ehrenamt="ja",
            ehrenamt_art="Freiwillige Feuerwehr Musterstadt seit 2019",
            baugebiet="Sonnenhang",
            finanzierungsbestaetigung="ja",
            email="anna@example.org",
        ),
        {"liegenschaftsamt"},
        expect={"kinder": 2, "einkommen": "bis_60000", "ortsbezug": "beides"},
    ),
    Case(
        "wohnbaugrundstueck",
        "couple without children",
        person(
            geburtsdatum="2.2.1995",
            anschrift="Beispielweg 3, 54321 Beispielstadt",
            haushalt_personen="zwei",
            kinder="keine",
            einkommen="über 80.000 €",
            wohnsituation="bei meinen Eltern",
            eigentum_vorhanden="nein",
            ortsbezug="arbeite hier",
            ehrenamt="nein",
            baugebiet="ist mir egal",
            finanzierungsbestaetigung="nein",
            email="anna@example.org",
        ),
        {"liegenschaftsamt"},
        expect={"kinder": 0, "wohnsituation": "eltern", "baugebiet": "egal"},
    ),
    # --- Mittagsverpflegung --------------------------------------------------------------
    Case(
        "mittagsverpflegung",
        "every day, paid by direct debit",
        {
            "kind_vorname": "Lena",
            "kind_nachname": "Schmidt",
            "kind_geburtsdatum": "03.07.2013",
            "schule": "Goethe-Gymnasium",
            "klasse": "7b",
            "tage": "jeden Tag",
            "besondere_kost": "keine",
            "but": "nein",
            "kontoinhaber": "Anna Schmidt",
            "iban": IBAN,
            "sepa_mandat": "ja",
            "antragsteller_name": "Anna Schmidt",
            "email": "anna@example.org",
        },
        {"schulamt"},
        expect={"tage": "alle", "besondere_kost": SKIP, "iban": "DE89370400440532013000"},
    ),
    Case(
        "mittagsverpflegung",
        "some days, Bildung und Teilhabe",
        {
            "kind_vorname": "Ali",
            "kind_nachname": "Yilmaz",
            "kind_geburtsdatum": "2014-01-20",
            "schule": "Gesamtschule",
            "klasse": "6a",
            "tage": "nur an einzelnen Tagen",
            "wochentage": "Montag, Mittwoch und Donnerstag",
            "besondere_kost": "kein Schweinefleisch",
            "but": "ja",
            "but_stelle": "Jobcenter",
            "but_aktenzeichen": "12345BG0012345",
            "antragsteller_name": "Ayse Yilmaz",
            "email": "ayse@example.org",
        },
        {"schulamt", "sozialamt"},
        expect={"schule": "gesamtschule", "tage": "einzelne", "but_stelle": "jobcenter"},
    ),
    # --- Gewerbeanmeldung ----------------------------------------------------------------
    Case(
        "gewerbeanmeldung",
        "GmbH, craft business",
        person(
            geburtsdatum="14.05.1980",
            rechtsform="GmbH",
            firmenname="Elektro Schmidt GmbH",
            registergericht="Amtsgericht Musterstadt",
            registernummer="HRB 12345",
            taetigkeit="Elektroinstallation in Wohn- und Geschäftsgebäuden",
            beginn="1. Januar",
            betrieb_strasse="Industriestr. 8",
            betrieb_postleitzahl="12347",
            nebenerwerb="nein",
            beschaeftigte="3",
            handwerk="ja",
            handwerksrolle="ja",
            email="info@elektro-schmidt.example",
        ),
        {"gewerbeamt", "finanzamt", "handwerkskammer"},
        expect={"rechtsform": "gmbh", "beginn": "2027-01-01", "beschaeftigte": 3},
    ),
    Case(
        "gewerbeanmeldung",
        "online shop as a sideline",
        person(
            geburtsdatum="2.2.1995",
            rechtsform="Kleingewerbe",
            firmenname="keine",
            taetigkeit="Online-Handel mit gebrauchter Kleidung",
            beginn="ab sofort",
            betrieb_strasse="Rosenweg 3",
            betrieb_postleitzahl="12341",
            nebenerwerb="ja",
            beschaeftigte="keine",
            handwerk="nein",
            email="anna@example.org",
        ),
        {"gewerbeamt", "finanzamt", "ihk"},
        expect={"rechtsform": "einzelunternehmen", "firmenname": SKIP, "beschaeftigte": 0},
    ),
    Case(
        "gewerbeanmeldung",
        "UG, not a craft",
        person(
            geburtsdatum="30.9.1990",
            rechtsform="UG (haftungsbeschränkt)",
            firmenname="Muster Software UG (haftungsbeschränkt)",
            registergericht="Amtsgericht Musterstadt",
            registernummer="beantragt",
            taetigkeit="Entwicklung und Vertrieb von Software",
            beginn="letzten Montag",
            betrieb_strasse="Am Markt 2",
            betrieb_postleitzahl="12345",
            nebenerwerb="nein",
            beschaeftigte="0",
            handwerk="nein",
            email="kontakt@muster-software.example",
        ),
        {"gewerbeamt", "finanzamt", "ihk"},
        expect={"rechtsform": "ug", "beginn": "2026-11-30"},
    ),
    # --- Handwerkerparkausweis -----------------------------------------------------------
    Case(
        "handwerkerparkausweis",
        "one vehicle",
        {
            "firma": "Elektro Schmidt GmbH",
            "gewerk": "Elektriker",
            "betrieb_strasse": "Industriestraße 8",
            "betrieb_postleitzahl": "12347",
            "betrieb_ort": "Musterstadt",
            "anzahl_fahrzeuge": "1",
            "kennzeichen_1": "MU-ES 100",
            "begruendung": "Werkzeug und Kabeltrommeln für Installationen bei Kunden.",
            "gueltig_ab": "morgen",
            "geltungsdauer": "ein halbes Jahr",
            "ansprechperson": "Anna Schmidt",
            "telefon": "0521 123456",
            "email": "info@elektro-schmidt.example",
        },
        {"strassenverkehrsamt"},
        expect={"gewerk": "elektro", "gueltig_ab": "2026-12-03", "geltungsdauer": "halbes_jahr"},
    ),
    Case(
        "handwerkerparkausweis",
        "two vehicles",
        {
            "firma": "Heizung Becker",
            "gewerk": "Sanitär",
            "betrieb_strasse": "Werkstraße 4",
            "betrieb_postleitzahl": "54321",
            "betrieb_ort": "Beispielstadt",
            "anzahl_fahrzeuge": "zwei",
            "kennzeichen_1": "BS-HB 101",
            "kennzeichen_2": "das zweite ist bs hb 102",
            "begruendung": "Ersatzteile und schweres Werkzeug für Heizungsnotdienste.",
            "gueltig_ab": "1. Januar",
            "geltungsdauer": "1 Jahr",
            "ansprechperson": "Jan Becker",
            "telefon": "0171 1234567",
            "email": "jan@heizung-becker.example",
        },
        {"strassenverkehrsamt"},
        expect={"kennzeichen_2": "BS-HB 102", "geltungsdauer": "ein_jahr"},
    ),
    Case(
        "handwerkerparkausweis",
        "three vehicles, a trade that is no option",
        {
            "firma": "Glaserei Weber",
            "gewerk": "Glaserei",
            "betrieb_strasse": "Talstraße 9",
            "betrieb_postleitzahl": "12349",
            "betrieb_ort": "Musterstadt",
            "anzahl_fahrzeuge": "drei",
            "kennzeichen_1": "MU-GW 1",
            "kennzeichen_2": "MU-GW 2",
            "kennzeichen_3": "MU-GW 3",
            "begruendung": "Glasscheiben werden direkt am Fenster eingesetzt.",
            "gueltig_ab": "15.1.",
            "geltungsdauer": "zwei Jahre",
            "ansprechperson": "Eva Weber",
            "telefon": "0521 654321",
            "email": "info@glaserei-weber.example",
        },
        {"strassenverkehrsamt"},
        expect={"gewerk": "Glaserei", "gueltig_ab": "2027-01-15", "anzahl_fahrzeuge": 3},
    ),
    # --- Sondernutzungserlaubnis ---------------------------------------------------------
    Case(
        "sondernutzungserlaubnis",
        "container in front of the house, no closure",
        {
            "nutzung": "Bauschuttcontainer",
            "beschreibung": "Ein 7-m³-Container für Bauschutt auf dem Grundstücksrand.",
            "strasse": "Bahnhofstr. 14",
            "von": "15.12.",
            "bis": "18.12.",
            "flaeche": "12,5",
            "verkehr_betroffen": "nein",
            "antragsteller_art": "privat",
            "name": "Anna Schmidt",
            "telefon": "0521 123456",
            "email": "anna@example.org",
        },
        {"tiefbauamt"},
        expect={"nutzung": "container", "von": "2026-12-15", "flaeche": "12.50"},
    ),
    Case(
        "sondernutzungserlaubnis",
        "removal with a no-stopping zone",
        {
            "nutzung": "Umzug",
            "beschreibung": "Möbelwagen vor dem Haus, Halteverbot auf 15 Metern.",
            "strasse": "Goethestraße 21",
            "von": "in zwei Wochen",
            "bis": "16.12.2026",
            "flaeche": "45",
            "verkehr_betroffen": "ja",
            "gesperrte_flaeche": "Parkstreifen",
            "verkehrsmassnahmen": "Halteverbotsschilder auf 15 m, aufgestellt von Umzüge Müller.",
            "antragsteller_art": "Firma",
            "organisation": "Umzüge Müller GmbH",
            "name": "Tom Müller",
            "telefon": "0521 987654",
            "email": "info@umzuege-mueller.example",
        },
        {"tiefbauamt", "strassenverkehrsamt"},
        expect={"nutzung": "umzug", "von": "2026-12-16", "gesperrte_flaeche": "parkstreifen"},
    ),
    # --- Hilfe zum Lebensunterhalt -------------------------------------------------------
    Case(
        "hilfe-zum-lebensunterhalt",
        "ill, some income",
        person(
            geburtsdatum="14.05.1968",
            strasse="Schulstraße 3",
            postleitzahl="12343",
            haushalt_personen="1",
            einkommen="ja",
            einkommen_betrag="412,50 €",
            vermoegen="nein",
            wohnkosten="520 Euro",
            krankenversicherung="gesetzlich bei der AOK",
            arbeitsfaehig="nein",
            grund_erwerbsminderung="Nach einer Operation bis Juni krankgeschrieben.",
            iban=IBAN,
            email="keine",
        ),
        {"sozialamt"},
        expect={"einkommen_betrag": "412.50", "wohnkosten": "520.00", "email": SKIP},
    ),
    Case(
        "hilfe-zum-lebensunterhalt",
        "no income, some savings",
        person(
            geburtsdatum="1.1.1975",
            strasse="Birkenweg 2",
            postleitzahl="12349",
            haushalt_personen="2",
            einkommen="nein",
            vermoegen="ja",
            vermoegen_angaben="Sparbuch etwa 3.000 €, Auto Baujahr 2012.",
            wohnkosten="610,00",
            krankenversicherung="nicht versichert",
            arbeitsfaehig="ja",
            iban="de89370400440532013000",
            email="anna@example.org",
        ),
        {"sozialamt"},
        expect={"krankenversicherung": "keine", "arbeitsfaehig": True},
    ),
]


def clean(case: Case) -> dict[str, Any]:
    answers, errors = check(SPECS[case.spec], case.answers, CONTEXT)
    assert errors == {}, f"{case}: {errors}"
    return answers


def test_all_specs_load_and_route_to_catalogue_departments() -> None:
    check_departments(SPECS.values(), [department["slug"] for department in DEPARTMENTS])
    assert len(SPECS) == 9


def test_online_forms_of_the_catalogue_and_services_of_the_specs_match() -> None:
    slugs = {service["slug"] for service in SERVICES}
    for service in SERVICES:
        if service.get("online_form"):
            assert service["online_form"] in SPECS, service["slug"]
            assert service["slug"] in SPECS[service["online_form"]].services
    for spec in SPECS.values():
        assert spec.services, spec.id
        for slug in spec.services:
            assert slug in slugs, f"{spec.id}: unknown service {slug}"
            online_form = next(s["online_form"] for s in SERVICES if s["slug"] == slug)
            assert online_form == spec.id, f"{slug} names {online_form}, not {spec.id}"


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.id)
def test_each_spec_is_a_marked_sample_with_a_condition_and_a_complete_intro(spec: FormSpec) -> None:
    assert spec.sample_data
    assert "SAMPLE SPEC" in Path(spec.source).read_text(encoding="utf-8").split("\nid:")[0]
    assert any(item.when is not None for item in spec.fields), spec.id
    assert 8 <= len(spec.fields) <= 16, spec.id
    assert "abbrechen" in spec.intro
    assert "bevor etwas abgeschickt wird" in spec.intro


def test_reference_prefixes_are_unique() -> None:
    prefixes = [spec.reference_prefix for spec in SPECS.values()]
    assert len(prefixes) == len(set(prefixes))


def all_fields() -> list[tuple[FormSpec, Field]]:
    return [(spec, item) for spec in SPECS.values() for item in spec.fields]


def field_id(pair: tuple[FormSpec, Field]) -> str:
    return f"{pair[0].id}.{pair[1].name}"


CHOICES = [pair for pair in all_fields() if pair[1].type == "choice"]
BOOLEANS = [pair for pair in all_fields() if pair[1].type == "boolean"]


@pytest.mark.parametrize("pair", CHOICES, ids=[field_id(pair) for pair in CHOICES])
def test_option_labels_values_and_synonyms_select_their_option(
    pair: tuple[FormSpec, Field],
) -> None:
    """Buttons send the label; the canonical value comes back from the backend."""
    _, item = pair
    for option in item.options:
        for word in (option.label, option.value, *option.synonyms):
            assert normalize(item, word, CONTEXT) == option.value, (word, option.value)


@pytest.mark.parametrize("pair", BOOLEANS, ids=[field_id(pair) for pair in BOOLEANS])
def test_yes_no_questions_take_ja_and_nein(pair: tuple[FormSpec, Field]) -> None:
    _, item = pair
    assert normalize(item, "ja", CONTEXT) is True
    if item.must_be_true:
        with pytest.raises(InvalidAnswer):
            normalize(item, "nein", CONTEXT)
    else:
        assert normalize(item, "nein", CONTEXT) is False


# A name of someone else has no useful example.
HINTS_WITHOUT_EXAMPLE = {("bewohnerparkausweis", "halter_name")}


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.id)
def test_questions_are_short_and_hints_give_an_example(spec: FormSpec) -> None:
    for item in spec.fields:
        assert len(item.question) <= 200, item.name
        if item.type in ("choice", "boolean") or (spec.id, item.name) in HINTS_WITHOUT_EXAMPLE:
            continue  # choices and yes/no come with buttons
        assert "zum Beispiel" in item.hint or " wie „" in item.hint, item.name


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.id)
def test_words_for_correcting_a_field_name_one_field_only(spec: FormSpec) -> None:
    """ "Bitte die Adresse ändern" must point at one field of the form."""
    from forms.answers import fold

    owner: dict[str, str] = {}
    for item in spec.fields:
        for word in (item.label, *item.synonyms):
            key = fold(word)
            assert owner.setdefault(key, item.name) == item.name, (word, owner[key], item.name)


def test_the_certificate_type_comes_from_the_service_asked_for() -> None:
    spec = SPECS["urkundenbestellung"]
    kind = spec.field("urkundenart")
    assert set(spec.services) == set(kind.prefill_from_service)
    for service, value in kind.prefill_from_service.items():
        assert value == service
        assert normalize(kind, value, CONTEXT) == value


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("meine eigene", "selbst"),
        ("für mich selbst", "selbst"),
        ("unsere Ehe", "selbst"),
        ("meiner Mutter", "eltern"),
        ("die von meinem Vater", "eltern"),
        ("meines verstorbenen Vaters", "eltern"),
        ("meine Oma", "eltern"),
        ("meiner Frau", "ehegatte"),
        ("meines Mannes", "ehegatte"),
        ("meines Sohnes", "kind"),
        ("meine Tochter", "kind"),
        ("meiner Schwester", "geschwister"),
        ("ich bin vom Bestattungsunternehmen", "vollmacht"),
        ("meiner Tante", "andere"),
    ],
)
def test_whose_certificate_in_the_citizens_words(answer: str, expected: str) -> None:
    item = SPECS["urkundenbestellung"].field("beziehung")
    assert normalize(item, answer, CONTEXT) == expected


def test_a_bare_possessive_is_asked_again_rather_than_guessed() -> None:
    item = SPECS["urkundenbestellung"].field("beziehung")
    with pytest.raises(InvalidAnswer, match="Möglich sind"):
        normalize(item, "meine", CONTEXT)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Schäferhund-Mischling", "mischling"),
        ("schaeferhund mix", "mischling"),
        ("ein Labrador-Mischling", "mischling"),
        ("Deutscher Schäferhund", "schaeferhund"),
        ("Rottweiler-Mix", "rottweiler"),
        ("AmStaff", "american_staffordshire"),
        ("Staffordshire Bullterrier", "staffordshire_bullterrier"),
        ("Bullterrier", "bullterrier"),
        ("Pitbull", "pitbull"),
        ("Australian Shepherd", "Australian Shepherd"),
    ],
)
def test_dog_breeds_in_the_citizens_words(answer: str, expected: str) -> None:
    item = SPECS["hundeanmeldung"].field("rasse")
    assert normalize(item, answer, CONTEXT) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("GmbH", "gmbh"),
        ("eine GmbH in Gründung", "gmbh"),
        ("UG (haftungsbeschränkt)", "ug"),
        ("GmbH & Co. KG", "kg"),
        ("e.K.", "ek"),
        ("eingetragener Kaufmann", "ek"),
        ("GbR", "gbr"),
        ("Einzelunternehmen", "einzelunternehmen"),
        ("nur ich allein", "einzelunternehmen"),
        ("OHG", "ohg"),
    ],
)
def test_legal_forms_in_the_citizens_words(answer: str, expected: str) -> None:
    item = SPECS["gewerbeanmeldung"].field("rechtsform")
    assert normalize(item, answer, CONTEXT) == expected


def test_an_unknown_legal_form_is_asked_again_with_the_options() -> None:
    item = SPECS["gewerbeanmeldung"].field("rechtsform")
    with pytest.raises(InvalidAnswer, match="„GmbH“"):
        normalize(item, "Aktiengesellschaft", CONTEXT)


# --- The answer sets -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_complete_answer_set_passes_the_backends_check(case: Case) -> None:
    answers = clean(case)
    for name, value in case.expect.items():
        assert answers[name] == value, name


@pytest.mark.parametrize("case", CASES, ids=str)
def test_clean_answers_pass_again_unchanged(case: Case) -> None:
    """Canonical values normalize to themselves: the backend re-checks what the bot sent."""
    answers = clean(case)
    sent = {name: value for name, value in answers.items() if value != SKIP}
    again, errors = check(SPECS[case.spec], sent, CONTEXT)
    assert errors == {}
    assert again == answers


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_application_reaches_the_expected_departments(case: Case) -> None:
    spec = SPECS[case.spec]
    routes = spec.routes_for(clean(case))
    assert {route.department for route in routes} == case.departments


@pytest.mark.parametrize("case", CASES, ids=str)
def test_exactly_the_fields_of_this_case_are_asked(case: Case) -> None:
    spec = SPECS[case.spec]
    answers = clean(case)
    assert {item.name for item in spec.active_fields(answers)} == set(case.answers)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_field_whose_condition_fails_is_refused(case: Case) -> None:
    spec = SPECS[case.spec]
    answers = clean(case)
    skipped = [item.name for item in spec.fields if not spec.applies(item, answers)]
    for name in skipped:
        _, errors = check(spec, {**case.answers, name: "x"}, CONTEXT)
        assert errors == {name: "Dieses Feld wird in diesem Fall nicht gefragt."}


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.id)
def test_the_answer_sets_take_every_condition_both_ways(spec: FormSpec) -> None:
    cases = [clean(case) for case in CASES if case.spec == spec.id]
    conditional: list[Field | Route] = [
        item for item in (*spec.fields, *spec.routes) if item.when is not None
    ]
    for item in conditional:
        outcomes = {spec.applies(item, answers) for answers in cases}
        assert outcomes == {True, False}, getattr(item, "name", None) or item.department


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.id)
def test_every_field_reaches_a_department(spec: FormSpec) -> None:
    routed = {name for route in spec.routes for name in route.fields}
    assert routed == {item.name for item in spec.fields}


def route(spec_id: str, department: str) -> Route:
    return next(r for r in SPECS[spec_id].routes if r.department == department)


def test_a_listed_dog_sends_its_part_to_the_ordnungsamt_and_the_tax_part_to_the_steueramt() -> None:
    ordnungsamt = route("hundeanmeldung", "ordnungsamt")
    steueramt = route("hundeanmeldung", "steueramt")
    listed = {"sachkundenachweis", "haftpflicht", "chipnummer"}
    assert listed <= set(ordnungsamt.fields)
    assert not listed & set(steueramt.fields)
    assert {"weiterer_hund", "ermaessigung", "ermaessigungsgrund"} <= set(steueramt.fields)
    assert not {"ermaessigung", "ermaessigungsgrund"} & set(ordnungsamt.fields)


def test_the_chambers_and_the_finanzamt_get_no_more_than_they_need() -> None:
    assert "email" not in route("gewerbeanmeldung", "finanzamt").fields
    assert "handwerksrolle" not in route("gewerbeanmeldung", "ihk").fields
    assert "handwerksrolle" in route("gewerbeanmeldung", "handwerkskammer").fields
    assert "geburtsdatum" not in route("gewerbeanmeldung", "ihk").fields


def test_the_sozialamt_gets_the_bildung_und_teilhabe_part_only() -> None:
    fields = set(route("mittagsverpflegung", "sozialamt").fields)
    assert {"but", "but_stelle", "but_aktenzeichen"} <= fields
    assert not {"besondere_kost", "iban", "kontoinhaber", "sepa_mandat"} & fields


def test_health_and_money_are_marked_as_such() -> None:
    spec = SPECS["hilfe-zum-lebensunterhalt"]
    assert spec.field("grund_erwerbsminderung").personal_data == "special"
    assert spec.field("krankenversicherung").personal_data == "health"
    for name in ("einkommen", "einkommen_betrag", "vermoegen", "wohnkosten", "iban"):
        assert spec.field(name).personal_data == "financial", name
    assert SPECS["mittagsverpflegung"].field("besondere_kost").personal_data == "health"


def test_a_context_without_the_city_still_checks_non_city_fields() -> None:
    """Addresses outside the city (certificates sent by post) need no street directory."""
    bare = FormContext(today=TODAY)
    item = SPECS["urkundenbestellung"].field("strasse")
    assert normalize(item, "Beispielweg 3", bare) == "Beispielweg 3"
