"""The documents an application becomes: PDFs for people, XML records for the DMS.

The whole application as one PDF (for the clerks' view), and for each department that
receives it only that department's part: its fields and what it does with them, as a PDF
and as a machine-readable XML record. Each answer appears in every part whose route names
it. Answers read as in the citizen's summary (``forms.answers.display``).

The same application always renders to the same bytes (the creation date is the moment
of receipt), so a delivery that is repeated overwrites a file with an identical one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fpdf import FPDF
from fpdf.fonts import FontFace

from forms.answers import SKIP, display
from forms.spec import FormSpec

FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT = "DejaVu"
NO_ANSWER = "keine Angabe"
SAMPLE_NOTE = (
    "Beispielformular: Fragen und Texte dieses Formulars sind Beispieldaten und von der "
    "Fachabteilung zu prüfen."
)
# Characters XML 1.0 cannot carry at all; answers are cleaned before, this is the last guard.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class DocumentSetupError(RuntimeError):
    """The PDFs cannot be rendered on this machine (fonts missing)."""


def check_fonts(font_dir: Path) -> None:
    """Refuse to start without the Unicode fonts, rather than fail every delivery later."""
    missing = [name for name in FONT_FILES.values() if not (font_dir / name).is_file()]
    if missing:
        raise DocumentSetupError(
            f"fonts {', '.join(missing)} not found in {font_dir} (BACKEND_PDF_FONT_DIR); "
            "on Debian or Ubuntu: apt-get install fonts-dejavu-core"
        )


@dataclass(frozen=True)
class ApplicationRecord:
    """What the documents show of one application."""

    reference: str
    spec: FormSpec
    answers: Mapping[str, Any]
    # Aware, in the city's time zone.
    received_at: datetime
    city: str
    channel: str | None = None


@dataclass(frozen=True)
class DepartmentPart:
    """One department's share of an application."""

    slug: str
    name: str
    purpose: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One answer as a document shows it."""

    name: str
    section: str
    label: str
    type: str
    value: Any
    shown: str

    @property
    def skipped(self) -> bool:
        return self.value is None or self.value == SKIP


def entries(record: ApplicationRecord, names: Sequence[str] | None = None) -> list[Entry]:
    """The answers named (all answers when ``names`` is None), in the order of the form.

    A field the spec no longer has (the spec changed after submission) is still shown,
    under its name, so that nothing the citizen submitted is dropped.
    """
    wanted = list(record.answers) if names is None else [n for n in names if n in record.answers]
    known = {item.name: item for item in record.spec.fields}
    order = {item.name: position for position, item in enumerate(record.spec.fields)}
    result = []
    for name in sorted(wanted, key=lambda n: order.get(n, len(order))):
        value = record.answers[name]
        spec_field = known.get(name)
        if spec_field is None:
            result.append(Entry(name, "Weitere Angaben", name, "text", value, _plain(value)))
            continue
        result.append(
            Entry(
                name=name,
                section=spec_field.section,
                label=spec_field.label,
                type=spec_field.type,
                value=value,
                shown=display(spec_field, value),
            )
        )
    return result


def _plain(value: Any) -> str:
    if value is None or value == SKIP:
        return NO_ANSWER
    if isinstance(value, bool):
        return "ja" if value else "nein"
    return str(value)


def _german_moment(moment: datetime) -> str:
    return f"{format_date(moment.date(), 'd. MMMM y', locale='de_DE')}, {moment:%H:%M} Uhr"


# ---------------------------------------------------------------------------------------
# PDF


class _Document(FPDF):
    def __init__(self, record: ApplicationRecord, font_dir: Path) -> None:
        super().__init__(format="A4")
        self.record = record
        for style, file_name in FONT_FILES.items():
            self.add_font(FONT, style, str(font_dir / file_name))
        self.set_font(FONT, size=10)
        self.set_auto_page_break(auto=True, margin=20)
        self.set_creation_date(record.received_at)
        self.set_title(f"{record.spec.title} {record.reference}")
        self.set_creator("GovBot")
        self.set_lang("de-DE")

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.set_text_color(90)
        self.cell(
            0,
            5,
            f"Eingereicht über den digitalen Assistenten der Stadt {self.record.city} · "
            f"Vorgangsnummer {self.record.reference} · Seite {self.page_no()}/{{nb}}",
            align="C",
        )
        self.set_text_color(0)


def _start(pdf: _Document, heading: str) -> None:
    record = pdf.record
    pdf.add_page()
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 5, f"Stadt {record.city}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", size=16)
    pdf.multi_cell(0, 8, heading, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    if record.spec.sample_data:
        pdf.set_text_color(160, 0, 0)
        pdf.multi_cell(0, 5, SAMPLE_NOTE, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
    pdf.ln(2)
    facts = [
        ("Vorgangsnummer", record.reference),
        ("Formular", f"{record.spec.title} ({record.spec.id})"),
        ("Eingegangen am", _german_moment(record.received_at)),
    ]
    if record.channel:
        facts.append(("Eingangskanal", record.channel))
    _table(pdf, facts)


def _table(pdf: _Document, rows: Sequence[tuple[str, str]]) -> None:
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=(38, 62),
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        line_height=5.5,
        padding=1,
        text_align="LEFT",
        v_align="TOP",
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=bold)
            row.cell(value)
    pdf.ln(3)


def _sections(pdf: _Document, items: Sequence[Entry]) -> None:
    sections: dict[str, list[tuple[str, str]]] = {}
    for entry in items:
        sections.setdefault(entry.section, []).append((entry.label, entry.shown))
    for section, rows in sections.items():
        _heading(pdf, section)
        _table(pdf, rows)


def _heading(pdf: _Document, text: str, keep_with: float = 25) -> None:
    # A heading alone at the foot of a page reads as belonging to nothing.
    if pdf.will_page_break(keep_with):
        pdf.add_page()
    pdf.set_font(FONT, "B", size=12)
    pdf.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)


def application_pdf(
    record: ApplicationRecord, parts: Sequence[DepartmentPart], font_dir: Path
) -> bytes:
    """The whole application, and which department receives which answers for what."""
    pdf = _Document(record, font_dir)
    _start(pdf, f"Antrag: {record.spec.title}")
    _sections(pdf, entries(record))
    if parts:
        _heading(pdf, "Weiterleitung", keep_with=50)
        labels = {entry.name: entry.label for entry in entries(record)}
        _table(
            pdf,
            [
                (
                    part.name,
                    f"{part.purpose}\nAngaben: "
                    + ", ".join(labels[name] for name in part.fields if name in labels),
                )
                for part in parts
            ],
        )
    return bytes(pdf.output())


def department_pdf(record: ApplicationRecord, part: DepartmentPart, font_dir: Path) -> bytes:
    """One department's part: only the answers its route names, and what it does with them."""
    pdf = _Document(record, font_dir)
    _start(pdf, f"Antrag: {record.spec.title} – für {part.name}")
    _table(pdf, [("Empfänger", part.name), ("Zweck", part.purpose)])
    _sections(pdf, entries(record, part.fields))
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------
# XML


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _canonical(value: Any) -> str:
    if value is None or value == SKIP:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _xml_text(str(value))


def department_xml(record: ApplicationRecord, part: DepartmentPart) -> bytes:
    """One department's part as a machine-readable record (UTF-8 XML).

    ``<value>`` holds the canonical value (ISO dates, ``true``/``false``, amounts as
    ``1234.50``, option keys); ``<display>`` the text a person reads.
    """
    root = ET.Element(
        "application",
        {"reference": record.reference, "sample": "true" if record.spec.sample_data else "false"},
    )
    ET.SubElement(root, "form", {"id": record.spec.id}).text = _xml_text(record.spec.title)
    ET.SubElement(root, "received").text = record.received_at.isoformat()
    if record.channel:
        ET.SubElement(root, "channel").text = _xml_text(record.channel)
    ET.SubElement(root, "city").text = _xml_text(record.city)
    ET.SubElement(root, "department", {"slug": part.slug}).text = _xml_text(part.name)
    ET.SubElement(root, "purpose").text = _xml_text(part.purpose)
    fields = ET.SubElement(root, "fields")
    for entry in entries(record, part.fields):
        attributes = {"name": entry.name, "type": entry.type, "section": _xml_text(entry.section)}
        if entry.skipped:
            attributes["skipped"] = "true"
        element = ET.SubElement(fields, "field", attributes)
        ET.SubElement(element, "label").text = _xml_text(entry.label)
        ET.SubElement(element, "value").text = _canonical(entry.value)
        ET.SubElement(element, "display").text = _xml_text(entry.shown)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
