"""The backend's form specs: the real ones load against the catalogue, and a broken spec
or one that routes to an unknown department stops the backend from starting."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.app.form_specs import FormSetupError, load_form_library
from backend.app.main import create_app
from tests.backend.builders import MOVE_SPEC
from tests.backend.conftest import ROOT, ManualClock, forms_dir, make_settings

CATALOGUE = ROOT / "data" / "catalogue"


def test_every_spec_in_data_forms_loads_against_the_catalogue() -> None:
    library = load_form_library(ROOT / "data" / "forms", CATALOGUE / "city.yml", CATALOGUE)
    assert "bewohnerparkausweis" in library.specs
    assert library.city.city == "Musterstadt"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (MOVE_SPEC.replace("department: gewerbeamt", "department: amt-fuer-zauberei"), "zauberei"),
        (MOVE_SPEC.replace("type: boolean", "type: yes_no"), "unknown type"),
        ("id: [unclosed", "not valid YAML"),
    ],
)
async def test_a_spec_that_cannot_be_used_stops_the_start(
    tmp_path: Path, spec: str, message: str
) -> None:
    settings = make_settings(tmp_path, forms_dir=forms_dir(tmp_path, ("umzug-test.yml", spec)))
    app = create_app(settings, ManualClock())
    with pytest.raises(FormSetupError, match=message):
        async with app.router.lifespan_context(app):
            pass


def test_a_missing_forms_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FormSetupError, match="BACKEND_FORMS_DIR"):
        load_form_library(tmp_path / "nowhere", CATALOGUE / "city.yml", CATALOGUE)


def test_the_context_of_a_day_is_built_once(tmp_path: Path) -> None:
    library = load_form_library(forms_dir(tmp_path), CATALOGUE / "city.yml", CATALOGUE)
    day = ManualClock().now().date()
    context = library.context(day)
    assert context.today == day
    assert library.context(day) is context
    assert context.street("lindenallee") == "Lindenallee"
