"""Write measured results into hand-written documents, between marker comments."""

from __future__ import annotations

from pathlib import Path


def replace_block(document: Path, name: str, text: str) -> None:
    """Put ``text`` between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in ``document``.

    The markers are appended when the document does not have them yet; everything around
    them stays as written.
    """
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    content = document.read_text(encoding="utf-8") if document.exists() else ""
    block = f"{begin}\n{text}\n{end}"
    if begin in content and end in content:
        head, rest = content.split(begin, 1)
        content = head + block + rest.split(end, 1)[1]
    else:
        content = f"{content}\n{block}\n"
    document.write_text(content, encoding="utf-8")
