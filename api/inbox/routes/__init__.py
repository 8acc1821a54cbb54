"""The staff inbox's pages, one module per area, assembled into one router.

Server-rendered HTML (Jinja2) plus one external script (inbox.js) that polls two small JSON
endpoints. Every page view of patient data and every action is written to the audit log (ids
only, never message text). The views parse the form, call core (core.escalations, core.inbox,
core.staff, core.patients) and render; who may do what is decided in core.

    signin          /inbox/login, /inbox/logout
    escalations     /inbox, /inbox/api/escalations, /inbox/escalations/...
    conversations   /inbox/conversations/..., /inbox/api/conversations/.../messages
    patients        /inbox/patients/... (search, add, CSV import, treatments)
    accounts        /inbox/account (own password), /inbox/staff (admins)
    admin           /inbox/outbox, /inbox/settings, /inbox/audit
    records         /inbox/search, /inbox/patients/.../timeline, /inbox/conversations.csv
"""

from __future__ import annotations

from fastapi import APIRouter

from api.inbox.routes import accounts, admin, conversations, escalations, patients, records, signin

router = APIRouter(include_in_schema=False)
for _area in (signin, escalations, records, conversations, patients, accounts, admin):
    router.include_router(_area.router)

__all__ = ["router"]
