"""Personal data out of the logs: ``redact(text)`` and the logging hook every process installs.

What citizens type reaches log lines in many ways: an exception message that quotes a value,
a URL with a search text, a library's debug line. ``redact`` replaces what can be recognised
reliably — e-mail addresses, IBANs (checksum verified with python-stdnum), phone numbers
(phonenumbers, German numbering plan) and German vehicle registrations — with a placeholder
such as ``[E-Mail]``. Names and addresses cannot be recognised this way; code must not log
them in the first place (log ids, counts and types, not values).

``install_log_redaction()`` is called once by every process (backend, delivery and retention
commands, action server, Rasa server). It works on two levels:

- a wrapper around the log-record factory redacts every record when it is created, whatever
  logger or handler it goes to later: handlers configured after the call (uvicorn's and
  Sanic's ``dictConfig``, Rasa's ``basicConfig``) are covered without knowing them;
- a ``logging.Filter`` on the handlers that exist at the time (the root logger's and those of
  the named loggers) catches what the factory does not see: records made elsewhere
  (``logging.makeLogRecord``), a factory replaced later, and ``extra=`` values.

A record is redacted once: its message is formatted (``msg % args``), redacted, and the
arguments cleared; the exception and stack text are formatted, redacted and kept as text
(``exc_info`` is dropped, so no handler can render the raw traceback again). Loggers whose
formatter reads the arguments themselves (uvicorn's access log) keep them, each redacted.

Plain Python (no pydantic, no Rasa): both virtual environments import it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

import phonenumbers
from stdnum import iban as stdnum_iban

EMAIL = "[E-Mail]"
IBAN = "[IBAN]"
PHONE = "[Telefon]"
LICENCE_PLATE = "[Kennzeichen]"

# Unicode letters too: "jörg@müller.de" is as personal as any other address.
_EMAIL = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+"
)
# An IBAN as people write it: country, check digits, then letters and digits, grouped by
# spaces or not. A candidate is cut back to the longest prefix that passes the checksum.
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ ]?[A-Za-z0-9]){11,32}")
_IBAN_MIN_LENGTH = 15  # Norway; Germany has 22
# Unterscheidungszeichen (1-3 letters), Erkennungsnummer (1-2 letters and 1-4 digits),
# E or H for electric and historic vehicles: "PB-AB 123", "M AB 1234E".
_LICENCE_PLATE = re.compile(
    r"(?<![A-Za-z0-9ÄÖÜäöü-])[A-ZÄÖÜ]{1,3}[- ][A-Z]{1,2}[ -]?[1-9][0-9]{0,3}[EH]?(?![A-Za-z0-9])"
)
# phonenumbers is slow-ish; a text with fewer digits than the shortest number is skipped.
_ENOUGH_DIGITS = re.compile(r"(?:[0-9][^0-9]{0,3}){6}")

_REDACTED = "govbot_redacted"
# Loggers whose formatter takes the arguments apart (uvicorn's access log: client, method,
# path, version, status); their arguments are redacted one by one instead of merged.
ARGUMENTS_KEPT = frozenset({"uvicorn.access"})
# What a LogRecord has anyway; everything else on a record came in through ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    _REDACTED,
}


def redact(text: str) -> str:
    """``text`` with e-mail addresses, IBANs, phone numbers and licence plates replaced."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _redact_ibans(text)
    text = _redact_phone_numbers(text)
    return _LICENCE_PLATE.sub(LICENCE_PLATE, text)


def _redact_ibans(text: str) -> str:
    parts: list[str] = []
    position = 0
    while match := _IBAN_CANDIDATE.search(text, position):
        end = _iban_end(text, match.start(), match.end())
        if end is None:
            parts.append(text[position : match.start() + 1])
            position = match.start() + 1
            continue
        parts.append(text[position : match.start()])
        parts.append(IBAN)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _iban_end(text: str, start: int, end: int) -> int | None:
    """End of the longest IBAN at ``start`` that ends before ``end`` at a word boundary."""
    for stop in range(end, start + _IBAN_MIN_LENGTH - 1, -1):
        if stop < len(text) and text[stop].isalnum():
            continue
        candidate = text[start:stop]
        if candidate.endswith(" "):
            continue
        if stdnum_iban.is_valid(candidate.upper()):
            return stop
    return None


def _redact_phone_numbers(text: str) -> str:
    if not _ENOUGH_DIGITS.search(text):
        return text
    parts: list[str] = []
    position = 0
    for match in phonenumbers.PhoneNumberMatcher(text, "DE"):
        parts.append(text[position : match.start])
        parts.append(PHONE)
        position = match.end
    parts.append(text[position:])
    return "".join(parts)


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact ``record`` in place (once): message, arguments, exception and stack text."""
    if getattr(record, _REDACTED, False):
        return record
    if record.name in ARGUMENTS_KEPT and isinstance(record.args, tuple):
        record.msg = redact(str(record.msg))
        record.args = tuple(_redact_value(arg) for arg in record.args)
    else:
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string: leave the error to the handler, with redacted parts.
            record.msg = redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(_redact_value(arg) for arg in record.args)
        else:
            record.msg = redact(message)
            record.args = ()
    if record.exc_info and record.exc_info[0] is not None:
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, _REDACTED, True)
    return record


class RedactingFilter(logging.Filter):
    """Redacts each record it sees (message, arguments, exception, ``extra=`` strings)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        redact_record(record)
        return True


_FILTER = RedactingFilter()


def _redacting_factory(
    inner: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(inner(*args, **kwargs))

    factory.govbot_redacting = True  # type: ignore[attr-defined]
    factory.inner = inner  # type: ignore[attr-defined]
    return factory


def install_log_redaction(loggers: Iterable[str] = ()) -> None:
    """Redact personal data from every log record of this process; safe to call again.

    ``loggers`` names loggers with handlers of their own (e.g. ``uvicorn.access``) whose
    handlers get the filter too, besides the root logger's.
    """
    if not log_redaction_installed():
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
    for name in ("", *loggers):
        for handler in logging.getLogger(name).handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def log_redaction_installed() -> bool:
    """Whether records of this process are redacted when they are made."""
    return bool(getattr(logging.getLogRecordFactory(), "govbot_redacting", False))


def uninstall_log_redaction() -> None:
    """Undo ``install_log_redaction`` (for tests)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "govbot_redacting", False):
        logging.setLogRecordFactory(factory.inner)  # type: ignore[attr-defined]
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            for handler in logger.handlers:
                handler.removeFilter(_FILTER)
