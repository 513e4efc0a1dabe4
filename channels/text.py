"""What a citizen's message may contain before it reaches the assistant."""

from __future__ import annotations

import unicodedata

# Categories that never belong in a chat message: control characters (except line
# breaks and tabs), lone surrogates, private use and unassigned code points.
_DROPPED_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}
_KEPT_CONTROLS = {"\n", "\t"}

# Channel signals: intents the input channels send instead of text the assistant cannot
# process; the assistant answers them politely (rules in data/rules/channel.yml).
EMPTY_MESSAGE = "/empty_message"
MESSAGE_TOO_LONG = "/message_too_long"


def clean_message(text: str) -> str:
    """NFC-normalised text without control characters, trimmed."""
    text = unicodedata.normalize("NFC", text)
    kept = (
        ch
        for ch in text
        if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    return "".join(kept).replace("\t", " ").strip()


def text_for_assistant(message: str, max_length: int) -> str:
    """The cleaned message, or the channel signal for an empty or over-long one."""
    # Cleaning costs time on the event loop: far too long messages are not cleaned.
    if len(message) > 4 * max_length:
        return MESSAGE_TOO_LONG
    text = clean_message(message)
    if not text:
        return EMPTY_MESSAGE
    if len(text) > max_length:
        return MESSAGE_TOO_LONG
    return text


def valid_sender(sender: object, max_length: int) -> str | None:
    """The sender id as text if it is usable as a conversation id, else None."""
    if isinstance(sender, bool) or not isinstance(sender, (str, int)):
        return None
    text = str(sender)
    if not text or len(text) > max_length or clean_message(text) != text:
        return None
    # No spaces, and no invisible format characters (bidi overrides, zero-width spaces).
    if any(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text):
        return None
    return text
