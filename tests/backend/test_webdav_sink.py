"""The WebDAV sink against a real WebDAV server (WsgiDAV on cheroot) on loopback: files
arrive on the server's disk; while the server is down deliveries wait, and once it is back
they go out."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cheroot import wsgi
from fastapi import FastAPI
from sqlalchemy import select
from wsgidav.wsgidav_app import WsgiDAVApp

from backend.app.core.config import Settings
from backend.app.delivery.outbox import Outbox
from backend.app.delivery.sinks import DeliveryFailed, Package, WebDavSink
from backend.app.models import Delivery
from tests.backend.builders import body, submit
from tests.backend.conftest import ManualClock, make_settings

USER, PASSWORD = "govbot", "dav-secret-for-tests"
DEPARTMENT = "strassenverkehrsamt"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DavServer:
    """WsgiDAV serving ``root`` on a fixed loopback port; can be stopped and started again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/posteingang/"
        (root / "posteingang").mkdir(parents=True)
        self._server: wsgi.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        app = WsgiDAVApp(
            {
                "host": "127.0.0.1",
                "port": self.port,
                "provider_mapping": {"/": str(self.root)},
                "http_authenticator": {
                    "accept_basic": True,
                    "accept_digest": False,
                    "default_to_digest": False,
                },
                "simple_dc": {"user_mapping": {"*": {USER: {"password": PASSWORD}}}},
                "verbose": 0,
                "logging": {"enable": False},
            }
        )
        self._server = wsgi.Server(("127.0.0.1", self.port), app, numthreads=2)
        # Notice a stop within 50 ms instead of cheroot's default half second.
        self._server.expiration_interval = 0.05
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None


@pytest.fixture
def dav(tmp_path: Path) -> Iterator[DavServer]:
    server = DavServer(tmp_path / "share")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, dav: DavServer) -> Settings:
    return make_settings(
        tmp_path,
        dms_sink="webdav",
        dms_webdav_url=dav.url,
        dms_webdav_username=USER,
        dms_webdav_password=PASSWORD,
        dms_webdav_timeout_seconds=3,
    )


def delivery_of(app: FastAPI) -> Delivery:
    with app.state.session_factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery is not None
        return delivery


async def test_deliveries_arrive_on_the_share_and_wait_while_it_is_down(
    app: FastAPI, client: httpx.AsyncClient, dav: DavServer, clock: ManualClock
) -> None:
    outbox: Outbox = app.state.outbox
    assert outbox.sink.name == "webdav"
    reference = (await submit(client, body())).json()["reference"]

    dav.stop()
    assert outbox.deliver_due().failed == 1
    waiting = delivery_of(app)
    assert waiting.status == "retrying"
    assert waiting.last_error == "webdav: ConnectError"
    assert waiting.next_attempt_at > clock.now()

    dav.start()  # on the same port
    clock.advance(seconds=30)
    assert outbox.deliver_due().delivered == 1

    folder = dav.root / "posteingang" / DEPARTMENT / reference
    assert sorted(p.name for p in folder.iterdir()) == [f"{reference}.pdf", f"{reference}.xml"]
    assert (folder / f"{reference}.pdf").read_bytes().startswith(b"%PDF")
    assert b"M\xc3\xbcller-L\xc3\xbcdenscheidt" in (folder / f"{reference}.xml").read_bytes()
    delivered = delivery_of(app)
    assert (delivered.status, delivered.attempts, delivered.sink) == ("delivered", 2, "webdav")


def test_delivering_again_replaces_the_files(dav: DavServer) -> None:
    sink = WebDavSink(dav.url, USER, PASSWORD, timeout=3)
    package = Package(DEPARTMENT, "BPA-2026-000001", {"BPA-2026-000001.xml": b"<a>1</a>"})
    sink.deliver(package)
    sink.deliver(Package(DEPARTMENT, "BPA-2026-000001", {"BPA-2026-000001.xml": b"<a>2</a>"}))
    target = dav.root / "posteingang" / DEPARTMENT / "BPA-2026-000001" / "BPA-2026-000001.xml"
    assert target.read_bytes() == b"<a>2</a>"


def test_a_wrong_password_fails_without_saying_it(dav: DavServer) -> None:
    sink = WebDavSink(dav.url, USER, "wrong", timeout=3)
    with pytest.raises(DeliveryFailed) as failure:
        sink.deliver(Package(DEPARTMENT, "BPA-2026-000001", {"BPA-2026-000001.xml": b"<a/>"}))
    assert str(failure.value) == "webdav: HTTP 401 on MKCOL"


def test_a_missing_base_collection_is_a_failure(dav: DavServer) -> None:
    sink = WebDavSink(dav.url + "gibt-es-nicht/", USER, PASSWORD, timeout=3)
    with pytest.raises(DeliveryFailed, match="HTTP 409 on MKCOL"):
        sink.deliver(Package(DEPARTMENT, "BPA-2026-000001", {"BPA-2026-000001.xml": b"<a/>"}))
