"""The form assistants' spec engine, shared by the action server and the backend.

A form spec (``data/forms/<id>.yml``) says which fields an application has, when each is
asked, how an answer is understood and checked, how the summary reads and which
departments receive which fields. This package turns a spec into those behaviours. It is
plain Python (no pydantic, no Rasa, no SQLAlchemy) so that both virtual environments can
import the very same code: what the bot accepts is exactly what the backend accepts.
"""

from forms.answers import Answers, FormContext, InvalidAnswer, normalize, validate_submission
from forms.spec import Condition, Field, FormSpec, Option, Route, SpecError, load_spec, load_specs

__all__ = [
    "Answers",
    "Condition",
    "Field",
    "FormContext",
    "FormSpec",
    "InvalidAnswer",
    "Option",
    "Route",
    "SpecError",
    "load_spec",
    "load_specs",
    "normalize",
    "validate_submission",
]
