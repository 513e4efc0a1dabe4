"""The form specs (``data/forms/``) and the city's street directory, as the backend uses them.

Loaded once at start: a spec that cannot be used, or that routes to a department the
catalogue lacks, stops the backend with the file and the reason in the message, so that no
citizen ever submits against a broken form.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from backend.app.catalogue import read_departments
from forms.answers import FormContext, load_city
from forms.spec import FormSpec, SpecError, check_departments, load_specs


class FormSetupError(RuntimeError):
    """The form specs or the city file cannot be used; the backend must not start."""


@dataclass
class FormLibrary:
    """All form specs by id, and what checking an answer needs besides the answer."""

    specs: dict[str, FormSpec]
    city: FormContext
    _contexts: dict[date, FormContext] = field(default_factory=dict, repr=False)

    def context(self, today: date) -> FormContext:
        """The city's context for checking answers on ``today``.

        Building one folds every street name; the day's context is kept, so that a city's
        street directory of a few thousand names is not folded again for each submission.
        """
        context = self._contexts.get(today)
        if context is None:
            context = dataclasses.replace(self.city, today=today, _folded_streets={})
            self._contexts.clear()
            self._contexts[today] = context
        return context


def load_form_library(forms_dir: Path, city_file: Path, catalogue_dir: Path) -> FormLibrary:
    """Every spec in ``forms_dir``, checked against the catalogue's departments."""
    if not forms_dir.is_dir():
        raise FormSetupError(f"BACKEND_FORMS_DIR {forms_dir} is not a folder")
    if not city_file.is_file():
        raise FormSetupError(f"BACKEND_CITY_FILE {city_file} does not exist")
    try:
        specs = load_specs(forms_dir)
        known = [department.slug for department in read_departments(catalogue_dir).departments]
        check_departments(specs.values(), known)
        city = load_city(city_file, date.today())
    except (SpecError, OSError, KeyError, TypeError, ValueError) as error:
        raise FormSetupError(f"form specs cannot be used: {error}") from error
    return FormLibrary(specs=specs, city=city)
