"""The staff intranet below ``/intern``: server-rendered German pages for the city's staff.

- ``auth``: passwords, sessions, CSRF, sign-in limits, and the role checks every route uses
- ``login``: signing in and out; ``/intern`` leads each role to its start page
- ``handoff_views``: the service center's queue, transcripts, takeover, reply, hand-back
- ``application_views``: the clerks' applications of their own departments
- ``account_views``: the administrators' accounts and audit log
- ``audit``: one log entry per staff action

Least privilege: ``service_center`` sees the handoffs, ``clerk`` the applications of their
departments, ``admin`` the accounts and the log; nobody sees more than that.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend.app.staff import account_views, application_views, handoff_views, login
from backend.app.staff.auth import LoginRequired, StaffProblem
from backend.app.staff.pages import HERE, PREFIX, StaffHeaders, login_required, staff_problem


def mount_staff(app: FastAPI) -> None:
    """The intranet's routes, style sheet and script, headers and error pages."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="staff-static")
    for module in (login, handoff_views, application_views, account_views):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(StaffProblem, staff_problem)
    app.add_middleware(StaffHeaders)
