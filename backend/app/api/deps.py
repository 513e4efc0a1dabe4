"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session

from backend.app.core.clock import Clock
from backend.app.core.config import Settings
from backend.app.form_specs import FormLibrary
from backend.app.relay import Relay


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_form_library(request: Request) -> FormLibrary:
    library: FormLibrary = request.app.state.forms
    return library


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
FormLibraryDep = Annotated[FormLibrary, Depends(get_form_library)]


def require_internal_token(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    """The internal API (action server, input channels): ``Authorization: Bearer <token>``."""
    settings: Settings = request.app.state.settings
    expected = f"Bearer {settings.internal_token_value}".encode()
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected):
        raise HTTPException(
            status_code=401,
            detail="Interner Zugang: Token fehlt oder ist falsch.",
            headers={"WWW-Authenticate": "Bearer"},
        )


InternalTokenDep = Depends(require_internal_token)


def get_relay(request: Request) -> Relay:
    relay: Relay = request.app.state.relay
    return relay


RelayDep = Annotated[Relay, Depends(get_relay)]
