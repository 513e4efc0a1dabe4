"""Personal data out of the logs (forms/privacy.py); runs in both environments."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from forms.privacy import (
    RedactingFilter,
    install_log_redaction,
    log_redaction_installed,
    redact,
    uninstall_log_redaction,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail an anna.mueller-l@example.org bitte", "Mail an [E-Mail] bitte"),
        ("<Jörg.Ö+tag@sub.stadt-verwaltung.de>", "<[E-Mail]>"),
        ("IBAN DE89 3704 0044 0532 0130 00 und danke", "IBAN [IBAN] und danke"),
        ("de89370400440532013000", "[IBAN]"),
        ("zwei: DE89370400440532013000, GB82 WEST 1234 5698 7654 32.", "zwei: [IBAN], [IBAN]."),
        ("Rufen Sie 0151 23456789 an", "Rufen Sie [Telefon] an"),
        ("Tel. +49 30 1234567 oder 05251/123456", "Tel. [Telefon] oder [Telefon]"),
        ("Kennzeichen PB-AB 123 und M AB 1234E", "Kennzeichen [Kennzeichen] und [Kennzeichen]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # What operators need stays: references, ids, dates, addresses, counts.
        "delivery of BPA-2026-000123 to buergerbuero failed (attempt 3, next at "
        "2026-12-02T10:00:00+01:00): ConnectError",
        '127.0.0.1:54321 - "GET /api/v1/services/bewohnerparkausweis HTTP/1.1" 200',
        "Telegram update 123456789 could not be handled",
        "sender 5f2a9c1e-1234-4567-89ab-123456789012, ticket 1234567, PLZ 12345",
        "took 1234.5678 ms",
        # A wrong checksum is no IBAN; a number too short is no phone number.
        "DE89 3704 0044 0532 0130 01",
        "Zimmer 1.23",
        "",
    ],
)
def test_what_is_not_personal_data_stays(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def clean_logging() -> Iterator[None]:
    """Whatever a test installs is taken away again: pytest's own logging stays as it was."""
    factory = logging.getLogRecordFactory()
    yield
    uninstall_log_redaction()
    logging.setLogRecordFactory(factory)


def _logger_to(stream: io.StringIO, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.handlers = [logging.StreamHandler(stream)]
    logger.handlers[0].setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.setLevel(logging.INFO)
    return logger


def test_the_filter_redacts_message_arguments_exception_and_extras() -> None:
    stream = io.StringIO()
    logger = _logger_to(stream, "govbot.test.filter")
    logger.handlers[0].addFilter(RedactingFilter())
    try:
        raise ValueError("kein Konto: DE89370400440532013000")
    except ValueError:
        logger.exception(
            "answer %s of %s", "anna@example.org", "ticket 7", extra={"contact": "0151 23456789"}
        )
    output = stream.getvalue()
    assert "ERROR answer [E-Mail] of ticket 7" in output
    assert "ValueError: kein Konto: [IBAN]" in output
    assert "anna@" not in output and "DE89" not in output


def test_installed_it_redacts_records_of_handlers_made_later(clean_logging: None) -> None:
    install_log_redaction()
    install_log_redaction()  # a second call changes nothing
    assert log_redaction_installed()
    # A handler configured after the installation (as uvicorn and Sanic do) and a record
    # whose formatter reads the arguments itself.
    stream = io.StringIO()
    logger = _logger_to(stream, "govbot.test.later")
    logger.info("Rückruf an %s, IBAN %s", "+49 30 1234567", "DE89 3704 0044 0532 0130 00")
    record = logging.getLogRecordFactory()(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s"', ("a@b.de", "GET", "/x"), None
    )
    assert stream.getvalue() == "INFO Rückruf an [Telefon], IBAN [IBAN]\n"
    assert record.args == ("[E-Mail]", "GET", "/x")


def test_a_broken_format_string_is_left_to_the_handler(clean_logging: None) -> None:
    install_log_redaction()
    record = logging.getLogRecordFactory()(
        "govbot.test", logging.INFO, __file__, 1, "%d von %s", ("anna@example.org",), None
    )
    assert record.args == ("[E-Mail]",)


def test_the_root_handlers_get_the_filter(clean_logging: None) -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        install_log_redaction()
        assert any(isinstance(item, RedactingFilter) for item in handler.filters)
    finally:
        root.removeHandler(handler)
