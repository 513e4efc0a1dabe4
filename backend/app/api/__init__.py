"""HTTP API of the backend: one router per resource."""
