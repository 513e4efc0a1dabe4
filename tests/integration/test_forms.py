"""The nine form assistants end to end, over the running Rasa server, actions and backend.

Each conversation starts with an ordinary "apply" request, gives one answer that does not
fit, asks a question in the middle, fills in what the bot asks, changes one answer at the
summary, and confirms. The bot must ask exactly the fields of this case (its questions are
recognised by their text in the spec), and afterwards the backend must hold exactly one
application with the expected values, routed to the expected departments, delivered to the
DMS folder.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from forms import FormSpec, load_specs
from forms.answers import display
from tests.stack import ROOT, Stack

pytestmark = pytest.mark.integration

SPECS = load_specs(ROOT / "data" / "forms")
SUMMARY = "Soll ich den Antrag so abschicken?"
REFERENCE = re.compile(r"Ihre Vorgangsnummer lautet ([A-Z]{2,4}-20\d\d-\d{6})")


@dataclass(frozen=True)
class Script:
    """One citizen filling in one form."""

    form: str
    start: str
    # What the citizen types when a field is asked, and what the backend must store.
    typed: dict[str, str]
    expected: dict[str, Any]
    # An answer that does not fit: (field, text).
    invalid: tuple[str, str]
    # A question in the middle of the form, and a piece of its answer.
    question: tuple[str, str]
    # At the summary: (what the citizen says, field, new answer, new stored value).
    correction: tuple[str, str, str, Any]
    departments: set[str]
    # Fields answered by the service the citizen asked for, never asked.
    prefilled: set[str] = field(default_factory=set)


SCRIPTS = [
    Script(
        form="bewohnerparkausweis",
        start="Ich möchte einen Bewohnerparkausweis beantragen",
        typed={
            "vorname": "Anna",
            "nachname": "Schmidt",
            "strasse": "Lindenallee 12",
            "postleitzahl": "12345",
            "wohnsitz": "Hauptwohnsitz",
            "kennzeichen": "MU-AB 123",
            "halter": "auf meinen Mann",
            "halter_name": "Max Schmidt",
            "nutzungsnachweis": "ja",
            "gueltig_ab": "nächsten Montag",
            "email": "anna.schmidt@example.org",
            "telefon": "keine",
        },
        expected={
            "vorname": "Anna",
            "nachname": "Schmidt",
            "strasse": "Mozartstraße 7",
            "postleitzahl": "12345",
            "wohnsitz": "hauptwohnsitz",
            "kennzeichen": "MU-AB 123",
            "halter": "andere_person",
            "halter_name": "Max Schmidt",
            "nutzungsnachweis": True,
            "gueltig_ab": "2026-12-07",
            "email": "anna.schmidt@example.org",
            "telefon": "",
        },
        invalid=("strasse", "Elmstreet 3"),
        question=("Was kostet das eigentlich?", "30,70"),
        correction=("bitte die Adresse ändern", "strasse", "Mozartstr. 7", "Mozartstraße 7"),
        departments={"strassenverkehrsamt"},
    ),
    Script(
        form="urkundenbestellung",
        start="Ich möchte eine Geburtsurkunde bestellen",
        typed={
            "beurkundet_in_musterstadt": "ja",
            "beziehung": "meine eigene",
            "ereignis_datum": "12.05.1985",
            "ausfuehrung": "deutsch",
            "anzahl": "2",
            "vorname": "Jonas",
            "nachname": "Becker",
            "versand": "per Post",
            "strasse": "Goethestraße 4",
            "postleitzahl": "12345",
            "ort": "Musterstadt",
            "email": "jonas.becker@example.org",
        },
        expected={
            "urkundenart": "geburtsurkunde",
            "beurkundet_in_musterstadt": True,
            "beziehung": "selbst",
            "ereignis_datum": "1985-05-12",
            "ausfuehrung": "deutsch",
            "anzahl": 3,
            "vorname": "Jonas",
            "nachname": "Becker",
            "versand": "post",
            "strasse": "Goethestraße 4",
            "postleitzahl": "12345",
            "ort": "Musterstadt",
            "email": "jonas.becker@example.org",
        },
        invalid=("anzahl", "15"),
        question=("Wie lange dauert das?", "Bearbeitungszeit"),
        correction=("Ich möchte die Anzahl ändern", "anzahl", "3", 3),
        departments={"standesamt"},
        prefilled={"urkundenart"},
    ),
    Script(
        form="hundeanmeldung",
        start="Ich möchte meinen Hund anmelden",
        typed={
            "vorname": "Lena",
            "nachname": "Hoffmann",
            "strasse": "Birkenweg 3",
            "postleitzahl": "12347",
            "hundename": "Bello",
            "rasse": "Rottweiler",
            "haltung_seit": "seit dem 1. Oktober",
            "weiterer_hund": "nein",
            "ermaessigung": "nein",
            "sachkundenachweis": "ja",
            "haftpflicht": "ja, habe ich",
            "chipnummer": "276098106543210",
            "email": "lena.hoffmann@example.org",
        },
        expected={
            "vorname": "Lena",
            "nachname": "Hoffmann",
            "strasse": "Birkenweg 3",
            "postleitzahl": "12347",
            "hundename": "Balu",
            "rasse": "rottweiler",
            "haltung_seit": "2026-10-01",
            "weiterer_hund": False,
            "ermaessigung": False,
            "sachkundenachweis": True,
            "haftpflicht": True,
            "chipnummer": "276098106543210",
            "email": "lena.hoffmann@example.org",
        },
        invalid=("postleitzahl", "33098"),
        question=("Was kostet die Hundesteuer?", "120,00"),
        correction=("Der Name des Hundes ist falsch", "hundename", "Balu", "Balu"),
        departments={"ordnungsamt", "steueramt"},
    ),
    Script(
        form="wohnbaugrundstueck",
        start="Ich möchte mich für ein Baugrundstück bewerben",
        typed={
            "vorname": "Mehmet",
            "nachname": "Yilmaz",
            "geburtsdatum": "3.4.1988",
            "anschrift": "Hauptstraße 5, 12345 Musterstadt",
            "haushalt_personen": "4",
            "kinder": "2",
            "juengstes_kind_alter": "3",
            "einkommen": "bis 60.000 Euro",
            "wohnsituation": "zur Miete",
            "eigentum_vorhanden": "nein",
            "ortsbezug": "beides",
            "ehrenamt": "ja",
            "ehrenamt_art": "Freiwillige Feuerwehr Musterstadt seit 2015",
            "baugebiet": "Kirchfeld",
            "finanzierungsbestaetigung": "ja",
            "email": "m.yilmaz@example.org",
        },
        expected={
            "vorname": "Mehmet",
            "nachname": "Yilmaz",
            "geburtsdatum": "1988-04-03",
            "anschrift": "Hauptstraße 5, 12345 Musterstadt",
            "haushalt_personen": 4,
            "kinder": 2,
            "juengstes_kind_alter": 3,
            "einkommen": "bis_60000",
            "wohnsituation": "miete",
            "eigentum_vorhanden": False,
            "ortsbezug": "beides",
            "ehrenamt": True,
            "ehrenamt_art": "Freiwillige Feuerwehr Musterstadt seit 2015",
            "baugebiet": "muehlenwiese",
            "finanzierungsbestaetigung": True,
            "email": "m.yilmaz@example.org",
        },
        invalid=("kinder", "viele"),
        question=("Was kostet die Bewerbung?", "kostenlos"),
        correction=("bitte das Baugebiet ändern", "baugebiet", "Mühlenwiese", "muehlenwiese"),
        departments={"liegenschaftsamt"},
    ),
    Script(
        form="mittagsverpflegung",
        start="Ich möchte mein Kind für das Mittagessen an der Schule anmelden",
        typed={
            "kind_vorname": "Mia",
            "kind_nachname": "Wagner",
            "kind_geburtsdatum": "14.02.2014",
            "schule": "Gesamtschule",
            "klasse": "7b",
            "tage": "an allen Tagen",
            "besondere_kost": "vegetarisch",
            "but": "nein",
            "kontoinhaber": "Julia Wagner",
            "iban": "DE89 3704 0044 0532 0130 00",
            "sepa_mandat": "ja",
            "antragsteller_name": "Julia Wagner",
            "email": "julia.wagner@example.org",
        },
        expected={
            "kind_vorname": "Mia",
            "kind_nachname": "Wagner",
            "kind_geburtsdatum": "2014-02-14",
            "schule": "gesamtschule",
            "klasse": "7c",
            "tage": "alle",
            "besondere_kost": "vegetarisch",
            "but": False,
            "kontoinhaber": "Julia Wagner",
            "iban": "DE89370400440532013000",
            "sepa_mandat": True,
            "antragsteller_name": "Julia Wagner",
            "email": "julia.wagner@example.org",
        },
        invalid=("iban", "DE89 3704 0044 0532 0130 01"),
        question=("Was kostet ein Essen?", "4,00"),
        correction=("ich muss die Klasse korrigieren", "klasse", "7c", "7c"),
        departments={"schulamt"},
    ),
    Script(
        form="gewerbeanmeldung",
        start="Ich möchte ein Gewerbe anmelden",
        typed={
            "vorname": "Sabine",
            "nachname": "Krüger",
            "geburtsdatum": "21.7.1979",
            "rechtsform": "GmbH",
            "firmenname": "Krüger Elektrotechnik GmbH",
            "registergericht": "Amtsgericht Musterstadt",
            "registernummer": "HRB 12345",
            "taetigkeit": "Elektroinstallation in Wohn- und Geschäftsgebäuden",
            "beginn": "1.2.2027",
            "betrieb_strasse": "Industriestraße 8",
            "betrieb_postleitzahl": "12349",
            "nebenerwerb": "nein",
            "beschaeftigte": "drei",
            "handwerk": "ja",
            "handwerksrolle": "ja",
            "email": "info@krueger-elektro.example.org",
        },
        expected={
            "vorname": "Sabine",
            "nachname": "Krüger",
            "geburtsdatum": "1979-07-21",
            "rechtsform": "gmbh",
            "firmenname": "Krüger Elektrotechnik GmbH",
            "registergericht": "Amtsgericht Musterstadt",
            "registernummer": "HRB 12345",
            "taetigkeit": "Elektroinstallation in Wohn- und Geschäftsgebäuden",
            "beginn": "2027-02-01",
            "betrieb_strasse": "Industriestraße 8",
            "betrieb_postleitzahl": "12349",
            "nebenerwerb": False,
            "beschaeftigte": 4,
            "handwerk": True,
            "handwerksrolle": True,
            "email": "info@krueger-elektro.example.org",
        },
        invalid=("geburtsdatum", "gestern"),
        question=("Welche Unterlagen brauche ich?", "bitte bringen Sie mit"),
        correction=("die Zahl der Mitarbeiter stimmt nicht", "beschaeftigte", "4", 4),
        departments={"finanzamt", "handwerkskammer", "gewerbeamt"},
    ),
    Script(
        form="handwerkerparkausweis",
        start="Ich möchte einen Handwerkerparkausweis beantragen",
        typed={
            "firma": "Malerbetrieb Schulz",
            "gewerk": "Maler",
            "betrieb_strasse": "Talstraße 10",
            "betrieb_postleitzahl": "12343",
            "betrieb_ort": "Musterstadt",
            "anzahl_fahrzeuge": "2",
            "kennzeichen_1": "MU-MS 100",
            "kennzeichen_2": "MU-MS 200",
            "begruendung": "Wir bringen Leitern und Farbe zu den Baustellen unserer Kunden.",
            "gueltig_ab": "ab sofort",
            "geltungsdauer": "ein Jahr",
            "ansprechperson": "Peter Schulz",
            "telefon": "05251 123456",
            "email": "info@maler-schulz.example.org",
        },
        expected={
            "firma": "Malerbetrieb Schulz",
            "gewerk": "maler",
            "betrieb_strasse": "Talstraße 10",
            "betrieb_postleitzahl": "12343",
            "betrieb_ort": "Musterstadt",
            "anzahl_fahrzeuge": 2,
            "kennzeichen_1": "MU-MS 100",
            "kennzeichen_2": "MU-MS 201",
            "begruendung": "Wir bringen Leitern und Farbe zu den Baustellen unserer Kunden.",
            "gueltig_ab": "2026-12-02",
            "geltungsdauer": "ein_jahr",
            "ansprechperson": "Peter Schulz",
            "telefon": "+495251123456",
            "email": "info@maler-schulz.example.org",
        },
        invalid=("anzahl_fahrzeuge", "5"),
        question=("Wie lange dauert die Bearbeitung?", "zwei Wochen"),
        correction=(
            "Das Kennzeichen des zweiten Fahrzeugs ist falsch",
            "kennzeichen_2",
            "MU-MS 201",
            "MU-MS 201",
        ),
        departments={"strassenverkehrsamt"},
    ),
    Script(
        form="sondernutzungserlaubnis",
        start="Ich möchte eine Sondernutzungserlaubnis beantragen",
        typed={
            "nutzung": "Container",
            "beschreibung": "Ein Bauschuttcontainer für die Renovierung unserer Wohnung.",
            "strasse": "Schillerstraße 14",
            "von": "15.12.2026",
            "bis": "20.12.2026",
            "flaeche": "12,5",
            "verkehr_betroffen": "ja",
            "gesperrte_flaeche": "Parkstreifen",
            "verkehrsmassnahmen": "Halteverbotsschilder, aufgestellt vom Containerdienst.",
            "antragsteller_art": "privat",
            "name": "Thomas Berg",
            "telefon": "0171 2345678",
            "email": "thomas.berg@example.org",
        },
        expected={
            "nutzung": "container",
            "beschreibung": "Ein Bauschuttcontainer für die Renovierung unserer Wohnung.",
            "strasse": "Schillerstraße 14",
            "von": "2026-12-15",
            "bis": "2026-12-20",
            "flaeche": "15.00",
            "verkehr_betroffen": True,
            "gesperrte_flaeche": "parkstreifen",
            "verkehrsmassnahmen": "Halteverbotsschilder, aufgestellt vom Containerdienst.",
            "antragsteller_art": "privat",
            "name": "Thomas Berg",
            "telefon": "+491712345678",
            "email": "thomas.berg@example.org",
        },
        invalid=("von", "morgen"),
        question=("Was kostet das?", "50,00"),
        correction=("bitte die Fläche ändern", "flaeche", "15", "15.00"),
        departments={"strassenverkehrsamt", "tiefbauamt"},
    ),
    Script(
        form="hilfe-zum-lebensunterhalt",
        start="Ich möchte Hilfe zum Lebensunterhalt beantragen",
        typed={
            "vorname": "Karin",
            "nachname": "Fischer",
            "geburtsdatum": "2.9.1960",
            "strasse": "Rosenweg 2",
            "postleitzahl": "12341",
            "haushalt_personen": "1",
            "einkommen": "ja",
            "einkommen_betrag": "450 Euro",
            "vermoegen": "nein",
            "wohnkosten": "520,00 €",
            "krankenversicherung": "gesetzlich",
            "arbeitsfaehig": "nein",
            "grund_erwerbsminderung": "Nach einer Operation bin ich sechs Monate krankgeschrieben.",
            "iban": "DE02120300000000202051",
            "email": "keine",
        },
        expected={
            "vorname": "Karin",
            "nachname": "Fischer",
            "geburtsdatum": "1960-09-02",
            "strasse": "Rosenweg 2",
            "postleitzahl": "12341",
            "haushalt_personen": 1,
            "einkommen": True,
            "einkommen_betrag": "450.00",
            "vermoegen": False,
            "wohnkosten": "520.00",
            "krankenversicherung": "gesetzlich",
            "arbeitsfaehig": False,
            "grund_erwerbsminderung": "Nach einer Operation bin ich sechs Monate krankgeschrieben.",
            "iban": "DE89370400440532013000",
            "email": "",
        },
        invalid=("wohnkosten", "viel zu hoch"),
        question=("Wie lange dauert die Bearbeitung?", "vier bis sechs Wochen"),
        correction=(
            "ich möchte meine IBAN ändern",
            "iban",
            "DE89370400440532013000",
            "DE89370400440532013000",
        ),
        departments={"sozialamt"},
    ),
]


def _norm(text: str) -> str:
    return " ".join(text.split())


def asked_field(spec: FormSpec, replies: list[str]) -> str | None:
    """The field whose question the bot asked last, if any."""
    questions = {_norm(item.question): item.name for item in spec.fields}
    for reply in reversed(replies):
        if _norm(reply) in questions:
            return questions[_norm(reply)]
    return None


def fill_in(stack: Stack, sender: str, script: Script) -> list[str]:
    """Answer every question the bot asks; returns the order in which fields were asked."""
    spec = SPECS[script.form]
    replies = stack.texts(sender, script.start)
    assert any(_norm(spec.intro) == _norm(reply) for reply in replies), replies
    asked: list[str] = []
    gave_invalid = asked_in_between = False
    for _ in range(3 * len(spec.fields)):
        name = asked_field(spec, replies)
        if name is None:
            break
        if name not in asked:
            asked.append(name)
        if name == script.invalid[0] and not gave_invalid:
            gave_invalid = True
            replies = stack.texts(sender, script.invalid[1])
            assert len(replies) >= 2, replies  # a hint first,
            assert asked_field(spec, replies) == name, replies  # then the same question
            continue
        if len(asked) == 2 and not asked_in_between:
            asked_in_between = True
            text, expected = script.question
            answer = stack.texts(sender, text)
            assert any(expected in reply for reply in answer), answer
            assert asked_field(spec, answer) == name, answer  # and the form goes on
        replies = stack.texts(sender, script.typed[name])
    assert gave_invalid and asked_in_between, (asked, replies)
    assert replies[-1] == SUMMARY, replies
    return asked


def application_rows(stack: Stack, sender: str) -> list[dict[str, Any]]:
    with sqlite3.connect(stack.state / "backend.sqlite3") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT reference, form_id, answers FROM application WHERE conversation_id = ?",
            (sender,),
        ).fetchall()
    return [dict(row) for row in rows]


def delivered(stack: Stack, reference: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(
            f"{stack.backend_url}/api/v1/applications/{reference}", headers=stack.internal_headers
        ).json()
        states = {d["status"] for d in status["deliveries"]}
        if states == {"delivered"} or time.monotonic() > deadline:
            return dict(status)
        time.sleep(0.5)


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.form for script in SCRIPTS])
def test_a_form_end_to_end(stack: Stack, script: Script) -> None:
    spec = SPECS[script.form]
    sender = f"form-{script.form}"
    asked = fill_in(stack, sender, script)
    assert sorted(asked) == sorted(set(script.expected) - script.prefilled)

    # Change one answer at the summary, then the summary comes back.
    said, name, new_text, new_value = script.correction
    replies = stack.texts(sender, said)
    assert f"Gern, dann ändern wir „{spec.field(name).label}“." in replies, replies
    assert asked_field(spec, replies) == name, replies
    replies = stack.texts(sender, new_text)
    assert replies[-1] == SUMMARY, replies
    shown = f"• {spec.field(name).label}: {display(spec.field(name), new_value)}"
    assert any(shown in reply for reply in replies), replies
    assert script.expected[name] == new_value

    replies = stack.texts(sender, "Ja, bitte abschicken")
    found = [REFERENCE.search(reply) for reply in replies]
    [reference] = [match.group(1) for match in found if match]
    assert reference.startswith(spec.reference_prefix + "-2026-")
    assert any("So geht es weiter" in reply for reply in replies), replies

    [row] = application_rows(stack, sender)
    assert row["reference"] == reference
    assert row["form_id"] == script.form
    assert json.loads(row["answers"]) == script.expected

    status = delivered(stack, reference)
    assert {d["department"] for d in status["deliveries"]} == script.departments
    assert {d["status"] for d in status["deliveries"]} == {"delivered"}
    for department in script.departments:
        folder = Path(stack.state / "dms" / department / reference)
        assert (folder / f"{reference}.pdf").stat().st_size > 0
        assert (folder / f"{reference}.xml").stat().st_size > 0

    # A second "ja" does not submit again: the form is finished.
    replies = stack.texts(sender, "ja")
    assert len(application_rows(stack, sender)) == 1
    assert not any(REFERENCE.search(reply) for reply in replies)


def test_cancel_asks_first_and_then_forgets(stack: Stack) -> None:
    script = SCRIPTS[0]
    spec = SPECS[script.form]
    sender = "form-cancel"
    replies = stack.texts(sender, script.start)
    first = asked_field(spec, replies)
    assert first is not None
    replies = stack.texts(sender, script.typed[first])
    second = asked_field(spec, replies)

    # "nein" goes on with the same question.
    replies = stack.texts(sender, "abbrechen")
    assert any("wirklich abbrechen" in reply for reply in replies), replies
    replies = stack.texts(sender, "nein")
    assert replies[0] == "Gut, dann machen wir weiter."
    assert asked_field(spec, replies) == second

    replies = stack.texts(sender, "Ich will das doch nicht mehr ausfüllen")
    assert any("wirklich abbrechen" in reply for reply in replies), replies
    replies = stack.texts(sender, "ja")
    assert any("Ihre Angaben gelöscht" in reply for reply in replies), replies
    assert application_rows(stack, sender) == []

    # The bot is free for other questions, and the form starts afresh when asked again.
    replies = stack.texts(sender, "Wann hat das Bürgerbüro geöffnet?")
    assert any("Öffnungszeiten" in reply for reply in replies), replies
    replies = stack.texts(sender, script.start)
    assert asked_field(spec, replies) == first


def test_the_backend_checks_submissions_that_bypass_the_bot(stack: Stack) -> None:
    url = f"{stack.backend_url}/api/v1/applications"
    answers = {**SCRIPTS[0].expected, "postleitzahl": "99999", "gueltig_ab": "2020-01-01"}
    body = {"form": "bewohnerparkausweis", "answers": answers, "conversation_id": "bypass"}
    # Without the internal token nobody but the bot submits.
    assert httpx.post(url, json=body, headers={"Idempotency-Key": "b-0"}).status_code == 401
    refused = httpx.post(
        url,
        json=body,
        headers={**stack.internal_headers, "Idempotency-Key": "bypass-refused-1"},
    )
    assert refused.status_code == 422
    errors = refused.json()["detail"]["errors"]
    assert set(errors) == {"postleitzahl", "gueltig_ab"}
    assert "99999" not in refused.text  # the submitted values are not echoed

    body["answers"] = SCRIPTS[0].expected
    headers = {**stack.internal_headers, "Idempotency-Key": "bypass-duplicate-1"}
    first = httpx.post(url, json=body, headers=headers)
    again = httpx.post(url, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["reference"] == again.json()["reference"]
    assert len(application_rows(stack, "bypass")) == 1


def converse(stack: Stack, sender: str, form: str, start: str, said: dict[str, str]) -> list[str]:
    """Answer each question with what the citizen says to it; returns the fields asked, in
    order, and stops at the summary (or when the bot asks something not in ``said``)."""
    spec = SPECS[form]
    replies = stack.texts(sender, start)
    asked: list[str] = []
    for _ in range(2 * len(spec.fields)):
        name = asked_field(spec, replies)
        if name is None or name not in said or replies[-1] == SUMMARY:
            break
        asked.append(name)
        replies = stack.texts(sender, said[name])
    assert replies[-1] == SUMMARY, (asked, replies)
    return asked


def test_natural_answers_are_understood_and_delivered_as_said(stack: Stack) -> None:
    """Sentences, number words, a surname that looks like stopping, a whole address."""
    sender = "form-natural"
    said = {
        "beurkundet_in_musterstadt": "ja, ich bin hier geboren",
        "beziehung": "meine eigene",
        "ereignis_datum": "am 3. März 1990",
        "ausfuehrung": "die normale deutsche",
        "anzahl": "zwei Stück bitte",
        "vorname": "Ich heiße Maria",
        "nachname": "Ende",
        "versand": "am besten per Post",
        "strasse": "Goethestraße 3, 12345 Musterstadt",
        "email": "schreiben Sie bitte an maria.ende@example.org",
    }
    asked = converse(stack, sender, "urkundenbestellung", "Ich brauche eine Geburtsurkunde", said)
    # The certificate came from the request, the postal code and town from the address.
    assert asked == list(said), asked
    replies = stack.texts(sender, "ja")
    assert any(REFERENCE.search(reply) for reply in replies), replies
    [row] = application_rows(stack, sender)
    assert json.loads(row["answers"]) == {
        "urkundenart": "geburtsurkunde",
        "beurkundet_in_musterstadt": True,
        "beziehung": "selbst",
        "ereignis_datum": "1990-03-03",
        "ausfuehrung": "deutsch",
        "anzahl": 2,
        "vorname": "Maria",
        "nachname": "Ende",
        "versand": "post",
        "strasse": "Goethestraße 3",
        "postleitzahl": "12345",
        "ort": "Musterstadt",
        "email": "maria.ende@example.org",
    }


def test_a_no_to_a_precondition_refers_and_ends_the_form(stack: Stack) -> None:
    sender = "form-not-here"
    spec = SPECS["urkundenbestellung"]
    replies = stack.texts(sender, "Ich brauche eine Geburtsurkunde")
    assert asked_field(spec, replies) == "beurkundet_in_musterstadt", replies
    replies = stack.texts(sender, "nein, ich bin in Köln geboren")
    assert any("des Ortes aus, an dem" in reply for reply in replies), replies
    assert any("Antrag deshalb beendet" in reply for reply in replies), replies
    assert asked_field(spec, replies) is None and SUMMARY not in replies
    # Nothing is kept, and the bot is free for the next matter.
    replies = stack.texts(sender, "Wann hat das Bürgerbüro geöffnet?")
    assert any("Öffnungszeiten" in reply for reply in replies), replies
    assert application_rows(stack, sender) == []


def test_an_unknown_option_is_never_replaced_by_a_listed_one(stack: Stack) -> None:
    sender = "form-unknown-school"
    spec = SPECS["mittagsverpflegung"]
    said = {
        "kind_vorname": "Paul",
        "kind_nachname": "Berg",
        "kind_geburtsdatum": "12.05.2015",
    }
    replies = stack.texts(sender, "Ich möchte mein Kind zum Mittagessen in der Schule anmelden")
    for _ in range(3):
        name = asked_field(spec, replies)
        assert name in said, replies
        replies = stack.texts(sender, said[name])
    assert asked_field(spec, replies) == "schule", replies
    replies = stack.texts(sender, "aufs Schiller-Gymnasium")
    assert any("keiner der Möglichkeiten" in reply for reply in replies), replies
    assert asked_field(spec, replies) == "schule", replies
    replies = stack.texts(sender, "Goete-Gymnasium")
    assert any(reply.startswith("Meinen Sie „Goethe-Gymnasium“?") for reply in replies), replies
    replies = stack.texts(sender, "ja")
    assert asked_field(spec, replies) == "klasse", replies


def test_invalid_answers_never_end_the_form_and_a_person_is_offered(stack: Stack) -> None:
    """Three invalid answers in a row bring the offer of a person; only its button (an explicit
    request) hands over, with the answers given so far."""
    sender = "form-stuck"
    spec = SPECS["urkundenbestellung"]
    said = {
        "beurkundet_in_musterstadt": "ja",
        "beziehung": "meine eigene",
        "ereignis_datum": "3.3.1990",
        "ausfuehrung": "deutsch",
        "anzahl": "1",
        "vorname": "Maria",
    }
    replies = stack.texts(sender, "Ich brauche eine Geburtsurkunde")
    while (name := asked_field(spec, replies)) in said:
        replies = stack.texts(sender, said[str(name)])
    assert asked_field(spec, replies) == "nachname", replies
    for attempt in range(4):
        replies = stack.texts(sender, "0815")
        assert asked_field(spec, replies) == "nachname", replies
        offered = any("Mensch aus dem Servicecenter" in reply for reply in replies)
        assert offered == (attempt >= 2), (attempt, replies)
    # The form is still open: a valid answer goes on with the next question.
    replies = stack.texts(sender, "Ende")
    assert asked_field(spec, replies) == "versand", replies
    replies = stack.texts(sender, "/request_human")
    assert any("an einen Menschen weiter" in reply for reply in replies), replies
    assert any("Ihre bisherigen Angaben zum Antrag" in reply for reply in replies), replies
