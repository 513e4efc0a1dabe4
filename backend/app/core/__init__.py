"""Configuration, database and clock of the backend."""
