"""The outbox: deliveries reach the DMS folder, survive an outage with back-off and
nothing lost, are never delivered twice at once by two workers, and wait visibly."""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backend import deliver
from backend.app.core.config import DEVELOPMENT_INTERNAL_TOKEN, Settings, get_settings
from backend.app.delivery.outbox import Outbox, backoff
from backend.app.delivery.sinks import FolderSink, Package
from backend.app.main import create_app
from backend.app.models import Delivery
from tests.backend.builders import APPLICATIONS, body, parking_answers, submit
from tests.backend.conftest import ManualClock, make_settings
from tests.backend.test_documents import parse_xml, text_of

DEPARTMENT = "strassenverkehrsamt"

INTERNAL = {"Authorization": f"Bearer {DEVELOPMENT_INTERNAL_TOKEN}"}


def deliveries(app: FastAPI) -> list[Delivery]:
    with app.state.session_factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def outbox_of(app: FastAPI) -> Outbox:
    outbox: Outbox = app.state.outbox
    return outbox


async def test_a_delivery_writes_the_departments_pdf_and_xml(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    reference = (await submit(client, body())).json()["reference"]
    clock.advance(seconds=5)

    result = outbox_of(app).deliver_due()

    assert (result.delivered, result.failed) == (1, 0)
    folder = settings.dms_folder / DEPARTMENT / reference
    assert sorted(p.name for p in folder.iterdir()) == [f"{reference}.pdf", f"{reference}.xml"]
    assert "Müller-Lüdenscheidt" in text_of((folder / f"{reference}.pdf").read_bytes())
    record = parse_xml((folder / f"{reference}.xml").read_bytes())
    assert record.get("reference") == reference
    state = (await client.get(f"{APPLICATIONS}/{reference}")).json()["deliveries"][0]
    assert state["status"] == "delivered"
    assert state["attempts"] == 1
    assert state["delivered_at"] == "2026-12-02T10:00:05+01:00"
    assert state["next_attempt_at"] is None
    # Nothing is due any more.
    assert outbox_of(app).deliver_due().delivered == 0


def test_the_folder_sink_replaces_files_when_delivered_again(tmp_path: Path) -> None:
    sink = FolderSink(tmp_path)
    package = Package(DEPARTMENT, "BPA-2026-000001", {"BPA-2026-000001.xml": b"<a/>"})
    sink.deliver(package)
    sink.deliver(package)
    folder = tmp_path / DEPARTMENT / "BPA-2026-000001"
    assert [p.name for p in folder.iterdir()] == ["BPA-2026-000001.xml"]  # no temp files left
    assert (folder / "BPA-2026-000001.xml").read_bytes() == b"<a/>"


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "x" * 80])
def test_a_package_refuses_names_that_could_leave_the_folder(name: str) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        Package(name, "BPA-2026-000001", {})


async def test_a_folder_outage_is_retried_with_backoff_and_loses_nothing(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    references = [
        (await submit(client, body(answers=parking_answers(kennzeichen=plate)))).json()["reference"]
        for plate in ("MU-AB 1", "MU-AB 2")
    ]
    # The department's folder cannot be created: a file is in its place (tests run as root,
    # so taking away permissions would not stop them).
    settings.dms_folder.mkdir(parents=True)
    blocker = settings.dms_folder / DEPARTMENT
    blocker.write_text("not a folder")
    outbox = outbox_of(app)

    first = outbox.deliver_due()
    assert (first.delivered, first.failed) == (0, 2)
    for delivery in deliveries(app):
        assert delivery.status == "retrying"
        assert delivery.attempts == 1
        assert delivery.last_error is not None
        assert delivery.last_error.startswith("folder: ")
        assert "Anna" not in delivery.last_error and DEPARTMENT not in delivery.last_error
        wait = delivery.next_attempt_at - clock.now()
        assert timedelta(seconds=27) <= wait <= timedelta(seconds=30)

    # Not due yet: nothing is tried.
    clock.advance(seconds=20)
    assert outbox.deliver_due().failed == 0

    clock.advance(seconds=10)
    assert outbox.deliver_due().failed == 2
    for delivery in deliveries(app):
        assert delivery.attempts == 2
        assert timedelta(seconds=54) <= delivery.next_attempt_at - clock.now() <= timedelta(60)

    blocker.unlink()
    clock.advance(seconds=60)
    done = outbox.deliver_due()

    assert (done.delivered, done.failed) == (2, 0)
    for reference in references:
        assert (settings.dms_folder / DEPARTMENT / reference / f"{reference}.pdf").is_file()
    assert {d.status for d in deliveries(app)} == {"delivered"}
    assert {d.last_error for d in deliveries(app)} == {None}


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, delivery_backoff_base_seconds=30, delivery_backoff_max_seconds=3600
    )
    no_jitter = make_settings(tmp_path, delivery_backoff_jitter=0)
    rng = random.Random(1)  # noqa: S311 - jitter, not a secret
    exact = [backoff(n, no_jitter, rng).total_seconds() for n in range(1, 10)]
    assert exact == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(500, no_jitter, rng).total_seconds() == 3600
    for attempts in range(1, 12):
        wait = backoff(attempts, settings, rng).total_seconds()
        full = min(3600, 30 * 2 ** (attempts - 1))
        assert full * 0.9 <= wait <= full


class RecordingSink:
    """Counts what it is given, from several threads."""

    name = "recording"

    def __init__(self) -> None:
        self.delivered: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def deliver(self, package: Package) -> None:
        with self.lock:
            self.delivered[(package.department, package.reference)] += 1


def second_outbox(app: FastAPI, sink: object, clock: ManualClock) -> Outbox:
    first = outbox_of(app)
    return Outbox(first.session_factory, first.library, sink, first.settings, clock)  # type: ignore[arg-type]


async def test_two_workers_never_deliver_the_same_row(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    for number in range(6):
        answers = parking_answers(kennzeichen=f"MU-AB {number + 1}")
        assert (await submit(client, body(answers=answers))).status_code == 201
    sink = RecordingSink()
    workers = [second_outbox(app, sink, clock) for _ in range(2)]
    start = threading.Barrier(2)

    def run(outbox: Outbox) -> None:
        start.wait()
        outbox.deliver_due()

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(sink.delivered) == 6
    assert set(sink.delivered.values()) == {1}
    assert {(d.status, d.attempts) for d in deliveries(app)} == {("delivered", 1)}


async def test_a_claim_is_exclusive_until_its_lease_runs_out(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    await submit(client, body())
    [delivery] = deliveries(app)
    crashed, rescuer = outbox_of(app), second_outbox(app, RecordingSink(), clock)

    token = crashed._claim(delivery.id)
    assert token is not None
    assert rescuer._claim(delivery.id) is None
    assert rescuer.deliver_due().delivered == 0

    clock.advance(seconds=settings.delivery_lease_seconds + 1)
    assert rescuer.deliver_due().delivered == 1
    # The first worker wakes up late: its outcome no longer counts.
    crashed._finish(token, delivery.id, status="retrying", last_error="late")
    [after] = deliveries(app)
    assert (after.status, after.attempts, after.last_error) == ("delivered", 2, None)


async def test_a_delivery_whose_form_was_removed_waits_visibly(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    reference = (await submit(client, body())).json()["reference"]
    app.state.forms.specs.pop("bewohnerparkausweis")

    assert outbox_of(app).deliver_due().failed == 1
    state = (await client.get(f"{APPLICATIONS}/{reference}")).json()["deliveries"][0]
    assert state["status"] == "retrying"
    assert state["last_error"] == "form 'bewohnerparkausweis' is not loaded"


async def test_a_sink_that_breaks_keeps_the_delivery_for_later(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    class BrokenSink:
        name = "broken"

        def deliver(self, package: Package) -> None:
            raise ZeroDivisionError("a bug")

    await submit(client, body())
    assert second_outbox(app, BrokenSink(), clock).deliver_due().failed == 1
    [delivery] = deliveries(app)
    assert (delivery.status, delivery.last_error) == ("retrying", "error: ZeroDivisionError")


async def test_the_worker_delivers_a_new_application_at_once(
    tmp_path: Path, clock: ManualClock
) -> None:
    # A long interval: only the wake-up after the submission can deliver within the test.
    settings = make_settings(tmp_path, delivery_worker=True, delivery_interval_seconds=3600)
    app = create_app(settings, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://backend.test", headers=INTERNAL
        ) as client:
            reference = (await submit(client, body())).json()["reference"]
            for _ in range(250):
                state = (await client.get(f"{APPLICATIONS}/{reference}")).json()
                if state["deliveries"][0]["status"] == "delivered":
                    break
                await asyncio.sleep(0.02)
            assert state["deliveries"][0]["status"] == "delivered"
    assert (settings.dms_folder / DEPARTMENT / reference / f"{reference}.xml").is_file()


async def test_the_command_delivers_once_and_reports_overdue_deliveries(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await submit(client, body())
    environment = {
        "BACKEND_DATABASE_URL": settings.database_url,
        "BACKEND_FORMS_DIR": str(settings.forms_dir),
        "BACKEND_CITY_FILE": str(settings.city_file),
        "BACKEND_CATALOGUE_DIR": str(settings.catalogue_dir),
        "BACKEND_DMS_FOLDER": str(settings.dms_folder),
        "BACKEND_DELIVERY_ALERT_AFTER_ATTEMPTS": "1",
        "BACKEND_FIXED_NOW": "2026-12-02T10:00:00+01:00",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    settings.dms_folder.mkdir(parents=True)
    (settings.dms_folder / DEPARTMENT).write_text("not a folder")
    try:
        assert deliver.main(["--once"]) == 1
        assert "delivered 0, failed 1, overdue 1" in capsys.readouterr().out

        (settings.dms_folder / DEPARTMENT).unlink()
        monkeypatch.setenv("BACKEND_FIXED_NOW", "2026-12-02T10:01:00+01:00")
        get_settings.cache_clear()
        assert deliver.main(["--once"]) == 0
        assert "delivered 1, failed 0, overdue 0" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
