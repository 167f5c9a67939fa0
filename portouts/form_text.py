"""What a person reads about a form: its errors under the fields' labels, and a saved set of
its values in words ("Status: pending, rejected · sorted by end user").

Pages never show a field's internal name (`o`, `per_page`, `status__in`): a saved filter,
an error and the form itself all speak through the form's labels and choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms

#: Where a description joins its parts.
SEPARATOR = " · "


def field_label(form: forms.BaseForm, name: str) -> str:
    """The label a person sees for field `name` (its name, readable, for an unknown one)."""
    field = form.fields.get(name)
    if field is not None and field.label:
        return str(field.label)
    return name.replace("_", " ").capitalize() if name != "__all__" else ""


def labelled_errors(*forms_: forms.BaseForm) -> list[tuple[str, list[str]]]:
    """Each invalid field's label with its messages, in the forms' order."""
    found: list[tuple[str, list[str]]] = []
    for form in forms_:
        if not form.is_bound:
            continue
        for name, errors in form.errors.items():
            found.append((field_label(form, name), [str(e) for e in errors]))
    return found


def errors_sentence(*forms_: forms.BaseForm) -> str:
    """The forms' errors as one line: "Sort by: Select a valid choice. …; Created to: …"."""
    return "; ".join(
        f"{label}: {' '.join(messages)}" if label else " ".join(messages)
        for label, messages in labelled_errors(*forms_)
    )


def describe_values(form: forms.BaseForm, values: Mapping[str, Any], *, sort_key: str = "o") -> str:
    """A saved set of the form's values in words, through its labels and choices; "" when
    nothing is set. The sort order (`sort_key`) comes last, as "sorted by …"."""
    parts: list[str] = []
    sort = ""
    for name, value in values.items():
        shown = [_shown(form, name, v) for v in _as_list(value)]
        shown = [s for s in shown if s]
        if not shown:
            continue
        if name == sort_key:
            sort = "sorted by " + ", then ".join(shown)
            continue
        parts.append(f"{field_label(form, name)}: {', '.join(shown)}")
    if sort:
        parts.append(sort)
    return SEPARATOR.join(parts)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _shown(form: forms.BaseForm, name: str, value: Any) -> str:
    """One value as its choice's label (lower case: it follows a label), else as typed."""
    text = str(value).strip()
    field = form.fields.get(name)
    choices: Iterable[Any] = getattr(field, "choices", None) or ()
    for key, label in choices:
        if str(key) == text and text:
            return _lower_first(str(label))
    return text


def _lower_first(text: str) -> str:
    """ "End user" → "end user"; an acronym ("PON", "SPID") stays as it is."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]
