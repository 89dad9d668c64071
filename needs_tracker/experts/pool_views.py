"""The pages every kind of pool record has (list, detail, create, edit, delete), written once.

Experts and resources differ in their model, form, filters and services, not in their pages:
each declares a PoolKind and add_pool_pages puts the five routes on its blueprint, with the
endpoints (index, create, detail, edit, delete), templates (<blueprint>/<page>.html) and
messages the two hand-written copies had.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from needs_tracker.common.crud import refuse_stale
from needs_tracker.common.forms import VersionedForm, data_from_form, select_choices
from needs_tracker.common.hooks import Hook
from needs_tracker.common.listing import ListSpec, apply_list, paginate
from needs_tracker.common.permissions import can_manage_pool, require
from needs_tracker.common.queries import get_visible_or_404
from needs_tracker.experts.services import PoolRecordInUse
from needs_tracker.extensions import db
from needs_tracker.taxonomy.services import field_choices


@dataclass(frozen=True)
class PoolKind:
    """What the pages of one kind of pool record (experts, resources) need to know."""

    blueprint: Blueprint
    model: Any
    noun: str  # the record's name in its templates: "expert", "resource"
    form: type[VersionedForm]
    data: type  # the services' input dataclass
    list_spec: ListSpec
    filter_list: Callable[[Select, Mapping[str, str]], Select]
    create: Callable[[Any, Any], Any]
    update: Callable[[Any, Any, Any], None]
    delete: Callable[[Any, Any], None]
    stale_fields: tuple[str, ...]
    panels: Hook


def add_pool_pages(kind: PoolKind) -> None:
    """Add the list, detail, create, edit and delete pages of kind to its blueprint."""
    model, noun = kind.model, kind.noun
    folder = kind.blueprint.name

    def form_for(obj: Any = None) -> VersionedForm:
        form = kind.form(obj=obj)
        form.field_ids.choices = select_choices(field_choices())
        return form

    def index():
        stmt = select(model).options(selectinload(model.fields))
        stmt = kind.filter_list(stmt, request.args)
        stmt, state = apply_list(stmt, kind.list_spec)
        return render_template(
            f"{folder}/index.html", page=paginate(stmt), state=state, fields=field_choices()
        )

    def create():
        require(can_manage_pool(current_user))
        form = form_for()
        if form.validate_on_submit():
            obj = kind.create(data_from_form(kind.data, form), current_user)
            db.session.commit()
            flash(_("Saved %(name)s.", name=obj.name), "success")
            return redirect(url_for(".detail", id=obj.id))
        return render_template(f"{folder}/form.html", form=form, **{noun: None})

    def detail(id: int):
        obj = get_visible_or_404(model, id, selectinload(model.fields))
        panels = kind.panels.collect(obj, current_user)
        return render_template(f"{folder}/detail.html", panels=panels, **{noun: obj})

    def edit(id: int):
        obj = get_visible_or_404(model, id, selectinload(model.fields))
        require(can_manage_pool(current_user))
        form = form_for(obj)
        if request.method == "GET":
            form.field_ids.data = [f.id for f in obj.fields]
            form.version.data = obj.version
        if form.validate_on_submit():
            if form.is_stale(obj):
                refuse_stale(form, obj, list(kind.stale_fields))
            else:
                kind.update(obj, data_from_form(kind.data, form), current_user)
                db.session.commit()
                flash(_("Saved %(name)s.", name=obj.name), "success")
                return redirect(url_for(".detail", id=obj.id))
        return render_template(f"{folder}/form.html", form=form, **{noun: obj})

    def delete(id: int):
        obj = get_visible_or_404(model, id)
        require(can_manage_pool(current_user))
        try:
            kind.delete(obj, current_user)
        except PoolRecordInUse as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".detail", id=id))
        db.session.commit()
        flash(_("Deleted %(name)s.", name=obj.name), "success")
        return redirect(url_for(".index"))

    index.__doc__ = f"Paginated, searchable list of {folder}."
    create.__doc__ = f"Add a {noun} to the shared pool (coordinators and admins)."
    detail.__doc__ = f"A {noun} and the needs matched to it (when matching is installed)."
    edit.__doc__ = f"Edit a {noun}; refuses stale saves."
    delete.__doc__ = f"Soft-delete a {noun}, unless other centres' matches use it."
    bp = kind.blueprint
    for rule, view, methods in (
        ("/", index, ["GET"]),
        ("/new", create, ["GET", "POST"]),
        ("/<int:id>", detail, ["GET"]),
        ("/<int:id>/edit", edit, ["GET", "POST"]),
        ("/<int:id>/delete", delete, ["POST"]),
    ):
        bp.add_url_rule(rule, view.__name__, login_required(view), methods=methods)
