"""Loading the catalogue: validated, idempotent, changes and removals picked up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import func, select

from backend.app.catalogue import load_catalogue, read_catalogue, read_departments
from backend.app.core.db import make_engine, make_session_factory, migrate
from backend.app.models import Department, Service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    folder = tmp_path / "catalogue"
    shutil.copytree(ROOT / "data" / "catalogue", folder)
    return folder


@pytest.fixture
def session_factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def edit(catalogue: Path, change, name: str = "departments") -> None:  # type: ignore[no-untyped-def]
    path = catalogue / f"{name}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_shipped_catalogue_is_valid_and_marked_as_sample_data() -> None:
    catalogue = read_departments(ROOT / "data" / "catalogue")
    assert catalogue.sample_data is True
    assert len(catalogue.departments) >= 4


def test_loading_twice_changes_nothing(catalogue: Path, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        load_catalogue(session, catalogue)
        counts = [
            session.scalar(select(func.count()).select_from(t)) for t in (Department, Service)
        ]
        load_catalogue(session, catalogue)
        again = [session.scalar(select(func.count()).select_from(t)) for t in (Department, Service)]
    assert counts == again
    assert counts[0] >= 10 and counts[1] >= 30


def test_changes_and_removals_are_picked_up(catalogue: Path, session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        load_catalogue(session, catalogue)

    def change(data):  # type: ignore[no-untyped-def]
        data["departments"][0]["room"] = "E.99"
        data["departments"] = [d for d in data["departments"] if d["slug"] != "ordnungsamt"]

    def drop_services(data):  # type: ignore[no-untyped-def]
        data["services"] = [s for s in data["services"] if s["department"] != "ordnungsamt"]
        data["services"][0]["fees"] = "neu: 1,00 €"

    edit(catalogue, change)
    edit(catalogue, drop_services, "services")
    with session_factory() as session:
        load_catalogue(session, catalogue)
        rooms = dict(session.execute(select(Department.slug, Department.room)).tuples().all())
        fees = set(session.scalars(select(Service.fees)))
    assert rooms["buergerbuero"] == "E.99"
    assert "ordnungsamt" not in rooms
    assert "neu: 1,00 €" in fees


def test_a_service_of_a_removed_office_is_refused(catalogue: Path) -> None:
    edit(catalogue, lambda data: data["departments"].pop(0))
    with pytest.raises(ValidationError, match="unknown department"):
        read_catalogue(catalogue)


@pytest.mark.parametrize(
    "hours",
    [
        {"monday": ["8-12"]},
        {"monday": ["12:00-08:00"]},
        {"monday": ["08:00-12:00", "11:00-14:00"]},
        {"montag": ["08:00-12:00"]},
    ],
)
def test_invalid_opening_hours_are_refused(catalogue: Path, hours: dict) -> None:  # type: ignore[type-arg]
    edit(catalogue, lambda data: data["departments"][0].__setitem__("opening_hours", hours))
    with pytest.raises(ValidationError):
        read_departments(catalogue)


def test_duplicate_slugs_are_refused(catalogue: Path) -> None:
    edit(catalogue, lambda data: data["departments"].append(dict(data["departments"][0])))
    with pytest.raises(ValidationError, match="appear twice"):
        read_departments(catalogue)
