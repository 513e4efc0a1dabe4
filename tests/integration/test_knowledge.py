"""Questions about services and offices, over the running stack in German.

The backend's clock is fixed to Wednesday, 2 December 2026, 10:00.
"""

from __future__ import annotations

import pytest

from tests.stack import Stack

pytestmark = pytest.mark.integration


def answer(stack: Stack, sender: str, message: str) -> str:
    return "\n\n".join(stack.texts(sender, message))


# For five services, every aspect: (question, words the answer must contain).
ASPECTS = {
    "reisepass": [
        ("Was kostet ein Reisepass?", "Reisepass beantragen – Gebühren:"),
        ("Welche Unterlagen brauche ich für einen Reisepass?", "bitte bringen Sie mit:"),
        ("Wie lange dauert es, bis mein Reisepass fertig ist?", "Bearbeitungszeit:"),
        ("Wer ist für den Reisepass zuständig?", "Zuständig ist: Bürgerbüro"),
        ("Wo muss ich hin für einen Reisepass?", "Bürgerbüro: Rathaus, Musterplatz 1"),
        ("Wann kann ich wegen meinem Reisepass vorbeikommen?", "Öffnungszeiten Bürgerbüro:"),
        ("Wie beantrage ich einen Reisepass?", "so geht es: Zuständig ist Bürgerbüro"),
        ("Wer bekommt einen Reisepass?", "Wer kann das beantragen?"),
    ],
    "bewohnerparkausweis": [
        ("Was kostet ein Bewohnerparkausweis?", "Bewohnerparkausweis – Gebühren:"),
        ("Welche Unterlagen brauche ich für den Anwohnerparkausweis?", "bitte bringen Sie mit:"),
        ("Wie lange dauert ein Bewohnerparkausweis?", "Bewohnerparkausweis – Bearbeitungszeit:"),
        ("Wer ist zuständig für den Bewohnerparkausweis?", "Zuständig ist: Straßenverkehrsamt"),
        ("Wo bekomme ich einen Bewohnerparkausweis?", "Straßenverkehrsamt: Technisches Rathaus"),
        ("Öffnungszeiten für den Bewohnerparkausweis", "Öffnungszeiten Straßenverkehrsamt:"),
        ("Was kostet ein Bewohnerparkausweis?", "formulare/bewohnerparkausweis"),
        ("Was ist ein Bewohnerparkausweis?", "Wer kann das beantragen?"),
    ],
    "gewerbeanmeldung": [
        ("Was kostet eine Gewerbeanmeldung?", "Gewerbeanmeldung – Gebühren:"),
        ("Welche Unterlagen brauche ich für die Gewerbeanmeldung?", "bitte bringen Sie mit:"),
        ("Wie lange dauert die Gewerbeanmeldung?", "Gewerbeanmeldung – Bearbeitungszeit:"),
        ("Wer ist für die Gewerbeanmeldung zuständig?", "Zuständig ist: Gewerbeamt"),
        ("Wo kann ich mein Gewerbe anmelden?", "Gewerbeamt: "),
        ("Wann hat die Gewerbeanmeldung geöffnet?", "Öffnungszeiten Gewerbeamt:"),
        ("Wie teuer ist eine Gewerbeanmeldung?", "formulare/gewerbeanmeldung"),
        ("Wer muss eine Gewerbeanmeldung machen?", "Wer kann das beantragen?"),
    ],
    "sperrmuell": [
        ("Was kostet die Sperrmüllabholung?", "Sperrmüllabholung – Gebühren:"),
        ("Welche Unterlagen brauche ich für die Sperrmüllabholung?", "Sperrmüllabholung – bitte"),
        ("Wie lange dauert es bis der Sperrmüll abgeholt wird?", "Bearbeitungszeit:"),
        ("Wer ist für Sperrmüll zuständig?", "Zuständig ist: Abfallwirtschaftsbetrieb"),
        ("Wo finde ich die Sperrmüllabholung?", "Abfallwirtschaftsbetrieb: "),
        ("Wann ist die Sperrmüllabholung erreichbar?", "Öffnungszeiten Abfallwirtschaftsbetrieb:"),
        ("Wie melde ich Sperrmüll an?", "Sperrmüllabholung – so geht es"),
        ("Was zählt als Sperrmüll?", "Wer kann das beantragen?"),
    ],
    "fuehrungszeugnis": [
        ("Was kostet ein Führungszeugnis?", "Führungszeugnis beantragen – Gebühren:"),
        ("Was brauche ich für ein Führungszeugnis?", "bitte bringen Sie mit:"),
        ("Wie lange dauert ein Führungszeugnis?", "Bearbeitungszeit:"),
        ("Wer stellt ein Führungszeugnis aus?", "Zuständig ist: Bürgerbüro"),
        ("Wo beantrage ich ein Führungszeugnis?", "Bürgerbüro: Rathaus, Musterplatz 1"),
        ("Wann kann ich für ein Führungszeugnis vorbeikommen?", "Öffnungszeiten Bürgerbüro:"),
        ("Ich möchte ein Führungszeugnis beantragen", "Führungszeugnis beantragen – so geht es"),
        ("Wofür braucht man ein Führungszeugnis?", "Wer kann das beantragen?"),
    ],
}


@pytest.mark.parametrize(
    ("question", "expected"),
    [pair for pairs in ASPECTS.values() for pair in pairs],
    ids=[f"{service}-{i}" for service, pairs in ASPECTS.items() for i in range(len(pairs))],
)
def test_every_aspect_of_a_service(stack: Stack, question: str, expected: str) -> None:
    text = answer(stack, f"aspect-{abs(hash(question))}", question)
    assert expected in text
    assert "Beispieldaten" in text


def test_follow_up_questions_keep_the_service(stack: Stack) -> None:
    sender = "follow-up-1"
    assert "Reisepass beantragen – Gebühren:" in answer(stack, sender, "Was kostet ein Reisepass?")
    assert "Reisepass beantragen – bitte bringen Sie mit:" in answer(
        stack, sender, "und was muss ich mitbringen?"
    )
    assert "Bürgerbüro: Rathaus" in answer(stack, sender, "wo ist das?")
    assert "Öffnungszeiten Bürgerbüro:" in answer(stack, sender, "und wann habt ihr offen?")


def test_ambiguous_request_offers_buttons(stack: Stack) -> None:
    messages = stack.say("ambiguous-1", "Was kostet eine Urkunde?")
    assert messages[0]["text"].startswith("Welche Leistung meinen Sie?")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/choose_service{"service": "geburtsurkunde"}' in payloads
    # Choosing a button answers the original question.
    chosen = answer(stack, "ambiguous-1", '/choose_service{"service": "geburtsurkunde"}')
    assert "Geburtsurkunde – Gebühren:" in chosen


def test_question_without_a_service_asks_which(stack: Stack) -> None:
    text = answer(stack, "which-1", "Was kostet das?")
    assert text.startswith("Welche Leistung meinen Sie?")
    assert "Personalausweis beantragen – Gebühren:" in answer(
        stack, "which-1", "den Personalausweis"
    )


@pytest.mark.parametrize(
    "question", ["Was kostet ein Fischereischein?", "Was kostet eine Mondlandung?"]
)
def test_unknown_service(stack: Stack, question: str) -> None:
    # Something the (sample) catalogue lacks, a city matter or not: the bot must not answer
    # with another service's fees. It asks which service it should be, says who else is
    # responsible (data/referrals.yml: the Fischereischein is the Kreis's), or, as for a price
    # question about a shop's goods, says what it can help with.
    text = answer(stack, f"unknown-{abs(hash(question))}", question)
    assert "Gebühren:" not in text
    assert (
        "Welche Leistung meinen Sie?" in text
        or "ist nicht die Stadt" in text
        or text.startswith(
            "Dabei kann ich Ihnen leider nicht helfen. Ich beantworte Fragen zu den Dienststellen"
        )
    )


def test_indoor_navigation_for_an_office(stack: Stack) -> None:
    text = answer(stack, "where-1", "Wo finde ich das Standesamt?")
    assert text.startswith("Standesamt: Rathaus, Musterplatz 1, 1. Obergeschoss, Raum 1.05")
    assert "Aufzug" in text
    assert "Der Zugang ist barrierefrei." in text


def test_out_of_hours_says_when_and_offers_help(stack: Stack) -> None:
    # The Sozialamt is closed on Wednesdays (sample data); the clock says Wednesday 10:00.
    text = answer(stack, "closed-1", "Hat das Sozialamt jetzt offen?")
    assert "Öffnungszeiten Sozialamt:" in text
    assert "Gerade ist geschlossen. Geöffnet ist wieder morgen um" in text
    assert "Auch jetzt helfe ich Ihnen gern weiter" in text


def test_a_service_added_to_the_catalogue_is_answered_without_code(stack: Stack) -> None:
    # "Baumfällgenehmigung" exists only in the backend's catalogue, not in the training data.
    text = answer(stack, "new-service-1", "Was kostet eine Baumfällgenehmigung?")
    assert "Baumfällgenehmigung – Gebühren: ab 40,00 €, je nach Zahl der Bäume" in text
