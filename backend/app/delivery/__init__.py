"""Delivery of applications to the departments' document management (DMS).

``outbox``: the delivery rows written with each application, claimed by workers, retried
with back-off until the DMS has them. ``sinks``: where a department's part goes (a folder,
or a WebDAV share). ``worker``: the background task in the backend process; ``python -m
backend.deliver --once`` does one pass from the command line.
"""
