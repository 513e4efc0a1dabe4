"""Where a department's part of an application is put: a folder, or a WebDAV share.

Both lay out ``<department>/<reference>/<reference>.pdf`` and ``.xml``, and both may be
given the same package again (after a crash between delivering and recording it): the
files are then replaced with identical ones. The XML is written last, so an importer that
waits for it finds the PDF complete.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import httpx

from backend.app.core.config import Settings

# Slugs and reference numbers only: nothing that could climb out of the target folder.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}(\.[a-z]{2,4})?$")
CONTENT_TYPES = {".pdf": "application/pdf", ".xml": "application/xml"}


class DeliveryFailed(RuntimeError):
    """The sink did not take the package. The message is short and technical, without
    personal data: it is stored with the delivery and shown to operators."""


@dataclass(frozen=True)
class Package:
    """One department's documents of one application."""

    department: str
    reference: str
    # File name -> content, in the order they are written.
    files: Mapping[str, bytes]

    def __post_init__(self) -> None:
        for name in (self.department, self.reference, *self.files):
            if not _SAFE_NAME.match(name):
                raise ValueError(f"unsafe name in a delivery package: {name!r}")


class Sink(Protocol):
    name: str

    def deliver(self, package: Package) -> None:
        """Put the package into the DMS, or raise ``DeliveryFailed``."""
        ...


class FolderSink:
    """A folder, typically one the DMS imports from (a local disk or a mounted share)."""

    name = "folder"

    def __init__(self, root: Path) -> None:
        self.root = root

    def deliver(self, package: Package) -> None:
        target = self.root / package.department / package.reference
        try:
            target.mkdir(parents=True, exist_ok=True)
            for file_name, content in package.files.items():
                _write_atomically(target / file_name, content)
            _sync_directory(target)
        except OSError as error:
            # strerror, not str(error): the latter names the path, and the operator
            # knows the folder anyway.
            reason = error.strerror or type(error).__name__
            raise DeliveryFailed(f"folder: {type(error).__name__}: {reason}"[:200]) from error


def _write_atomically(path: Path, content: bytes) -> None:
    """A reader sees the old file or the whole new one, never a half-written one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _sync_directory(directory: Path) -> None:
    """Make the renames durable, so that "delivered" is not recorded for files a power cut
    could still take back."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class WebDavSink:
    """A WebDAV share (Nextcloud, SharePoint, most DMS): MKCOL the folders, PUT the files."""

    name = "webdav"

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base = url.rstrip("/") + "/"
        self.auth = httpx.BasicAuth(username, password or "") if username else None
        self.timeout = timeout
        self.transport = transport

    def deliver(self, package: Package) -> None:
        department = f"{self.base}{quote(package.department)}/"
        folder = f"{department}{quote(package.reference)}/"
        try:
            with httpx.Client(
                auth=self.auth, timeout=self.timeout, transport=self.transport
            ) as client:
                for collection in (department, folder):
                    response = client.request("MKCOL", collection)
                    # 405: the collection exists already (RFC 4918, 9.3.1).
                    if response.status_code != 405:
                        _check(response, "MKCOL")
                for file_name, content in package.files.items():
                    kind = CONTENT_TYPES.get(Path(file_name).suffix, "application/octet-stream")
                    response = client.put(
                        folder + quote(file_name), content=content, headers={"Content-Type": kind}
                    )
                    _check(response, "PUT")
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"webdav: {type(error).__name__}"[:200]) from error


def _check(response: httpx.Response, method: str) -> None:
    if not response.is_success:
        raise DeliveryFailed(f"webdav: HTTP {response.status_code} on {method}")


def make_sink(settings: Settings) -> Sink:
    if settings.dms_sink == "webdav":
        assert settings.dms_webdav_url is not None  # the settings refuse webdav without it
        password = settings.dms_webdav_password
        return WebDavSink(
            settings.dms_webdav_url,
            settings.dms_webdav_username,
            password.get_secret_value() if password else None,
            settings.dms_webdav_timeout_seconds,
        )
    return FolderSink(settings.dms_folder)
