"""Small helpers shared by the CRUD views."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_wtf import FlaskForm

from needs_tracker.common.forms import stale_message


def differing_fields(form: FlaskForm, obj: Any, names: list[str]) -> list[str]:
    """Labels of fields whose stored value differs from what the form submitted."""
    labels = []
    for name in names:
        field = getattr(form, name, None)
        if field is None:
            continue
        stored = getattr(obj, name, None)
        submitted = field.data
        if (stored or "") != (submitted or "") and str(stored or "") != str(submitted or ""):
            labels.append(str(field.label.text))
    return labels


def refuse_stale(form: FlaskForm, obj: Any, names: list[str]) -> None:
    """Flash the stale-edit message and reset the form's version to the current one."""
    flash(stale_message(differing_fields(form, obj, names)), "danger")
    form.version.data = obj.version
