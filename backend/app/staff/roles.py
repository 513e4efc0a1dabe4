"""Staff roles, what each may open, and the words the intranet uses for them."""

from __future__ import annotations

SERVICE_CENTER, CLERK, ADMIN = "service_center", "clerk", "admin"
ROLES = (SERVICE_CENTER, CLERK, ADMIN)

ROLE_LABELS = {
    SERVICE_CENTER: "Servicecenter",
    CLERK: "Sachbearbeitung",
    ADMIN: "Administration",
}

# Where /intern takes a member of staff after signing in.
START_PAGES = {
    SERVICE_CENTER: "/intern/uebergaben",
    CLERK: "/intern/antraege",
    ADMIN: "/intern/konten",
}
