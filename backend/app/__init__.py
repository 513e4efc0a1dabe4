"""GovBot backend: the system of record for the catalogue and, later, applications."""
