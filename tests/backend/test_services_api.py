"""The services API: catalogue loaded, search by citizens' words, detail with the office."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from backend.app.main import create_app
from tests.backend.conftest import ROOT, make_settings


async def test_the_catalogue_has_the_services_and_offices(client: httpx.AsyncClient) -> None:
    services = (await client.get("/api/v1/services")).json()
    departments = (await client.get("/api/v1/departments")).json()
    assert len(services) >= 30
    assert len(departments) >= 10
    assert all(s["sample_data"] for s in services)
    slugs = {s["slug"] for s in services}
    for required in [
        "bewohnerparkausweis", "geburtsurkunde", "eheurkunde", "sterbeurkunde",
        "hundeanmeldung", "wohnbaugrundstueck", "mittagsverpflegung", "gewerbeanmeldung",
        "gewerbeummeldung", "gewerbeabmeldung", "handwerkerparkausweis",
        "sondernutzungserlaubnis", "hilfe-zum-lebensunterhalt", "personalausweis", "reisepass",
        "wohnsitz-anmelden", "wohnsitz-ummelden", "meldebescheinigung", "fuehrungszeugnis",
        "sperrmuell", "kfz-zulassung", "fundsachen",
    ]:  # fmt: skip
        assert required in slugs


async def test_service_detail_names_office_fees_documents_and_online_form(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/api/v1/services/bewohnerparkausweis")).json()
    assert body["name"] == "Bewohnerparkausweis"
    assert body["fees"] and body["documents"] and body["processing_time"]
    assert body["department"]["slug"] == "strassenverkehrsamt"
    assert body["department"]["room"]
    assert body["online_form"] == "bewohnerparkausweis"
    assert body["online_form_url"] == (
        "https://service.musterstadt.example/formulare/bewohnerparkausweis"
    )
    assert body["leika"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Anwohnerparkausweis", "bewohnerparkausweis"),
        ("anwohner parkausweis", "bewohnerparkausweis"),
        ("Was kostet ein Bewohnerparkausweis?", "bewohnerparkausweis"),
        ("fuehrungszeugnis", "fuehrungszeugnis"),
        ("Ich möchte meinen Reisepass verlängern", "reisepass"),
        ("Sperrmüll", "sperrmuell"),
    ],
)
async def test_search_by_citizens_words(
    client: httpx.AsyncClient, query: str, expected: str
) -> None:
    found = (await client.get("/api/v1/services", params={"q": query})).json()
    assert found and found[0]["slug"] == expected


async def test_search_for_nothing_known_is_empty(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/services", params={"q": "Wetter morgen"})).json() == []


async def test_unknown_service_is_a_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/services/mondlandung")).status_code == 404


async def test_opening_hours_of_a_service_are_those_of_its_office(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/api/v1/services/personalausweis/opening-hours")).json()
    assert body["department"]["slug"] == "buergerbuero"
    assert body["open_now"] is True


async def test_a_new_service_in_the_catalogue_needs_no_code(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue"
    shutil.copytree(ROOT / "data" / "catalogue", catalogue)
    path = catalogue / "services.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["services"].append(
        {
            "slug": "baumfaellgenehmigung",
            "name": "Baumfällgenehmigung",
            "synonyms": ["Baum fällen", "Fällgenehmigung"],
            "description": "Erlaubnis, einen geschützten Baum auf Ihrem Grundstück zu fällen.",
            "fees": "ab 40,00 €",
            "documents": ["Lageplan", "Foto des Baums"],
            "processing_time": "Etwa vier Wochen.",
            "department": "tiefbauamt",
        }
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    app = create_app(make_settings(tmp_path, catalogue_dir=catalogue))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            found = (await client.get("/api/v1/services", params={"q": "Baum fällen"})).json()
    assert [s["slug"] for s in found] == ["baumfaellgenehmigung"]
    assert found[0]["fees"] == "ab 40,00 €"


async def test_the_head_of_a_compound_finds_every_service_it_ends(
    client: httpx.AsyncClient,
) -> None:
    found = (await client.get("/api/v1/services", params={"q": "Was kostet eine Urkunde?"})).json()
    assert {"geburtsurkunde", "eheurkunde", "sterbeurkunde"} <= {s["slug"] for s in found}


async def test_a_generic_verb_is_no_compound_head(client: httpx.AsyncClient) -> None:
    # "beantragen" ends "Personalausweis beantragen" as a word of its own, not as a head.
    found = await client.get("/api/v1/services", params={"q": "Wie kann ich das beantragen?"})
    assert found.json() == []
