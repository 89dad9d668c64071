"""Who may do what: role rules and the per-user data scope.

Deny by default: a role gets exactly the scope and the rights named here; a role this module
does not know (a typo in the database, a role added without a rule) reads and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user

from needs_tracker.common.choices import Role
from needs_tracker.common.scoping import Scope

if TYPE_CHECKING:
    from needs_tracker.auth.models import User

EDITOR_ROLES = (Role.MEMBER, Role.COORDINATOR, Role.ADMIN, Role.SYSADMIN)
COORDINATOR_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SYSADMIN)
ADMIN_ROLES = (Role.ADMIN, Role.SYSADMIN)
# Roles whose own centre's data they read and write.
_CENTRE_WRITERS = frozenset({Role.MEMBER.value, Role.COORDINATOR.value, Role.ADMIN.value})
# Roles that arrange meetings with experts and so see their phone and e-mail.
CONTACT_ROLES = (Role.COORDINATOR, Role.ADMIN, Role.SYSADMIN)


def scope_for(user: User | None) -> Scope:
    """The data scope of user: which centres it reads and writes (nothing unless named)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Scope.nobody()
    own = frozenset({user.centre_id}) if user.centre_id is not None else frozenset()
    nothing = frozenset[int]()
    if user.role == Role.SYSADMIN.value:
        return Scope(read_centres=None, write_centres=None, user_id=user.id)
    if user.role in _CENTRE_WRITERS:
        return Scope(read_centres=own, write_centres=own, user_id=user.id)
    if user.role == Role.LEADER.value:
        reads = None if user.is_consortium else own
        return Scope(read_centres=reads, write_centres=nothing, user_id=user.id)
    if user.role == Role.OBSERVER.value:
        return Scope(read_centres=own, write_centres=nothing, user_id=user.id)
    return Scope(read_centres=nothing, write_centres=nothing, user_id=user.id)


def _role_rule(name: str, doc: str, *roles: Role) -> Callable[[User], bool]:
    """A predicate true for users holding one of roles (and for nobody else)."""

    def rule(user: User) -> bool:
        return user.has_role(*roles)

    rule.__name__ = rule.__qualname__ = name
    rule.__doc__ = doc
    return rule


# Rules that depend on the role alone, one a line: what it allows, then who.
is_sysadmin = _role_rule(
    "is_sysadmin",
    "System administrators manage every centre and the centres themselves.",
    Role.SYSADMIN,
)
can_admin_users = _role_rule(
    "can_admin_users",
    "Centre admins manage their centre's users; system admins everyone's.",
    *ADMIN_ROLES,
)
can_edit_organisation = _role_rule(
    "can_edit_organisation",
    "Service-team members keep company details current, as do coordinators and admins.",
    *EDITOR_ROLES,
)
can_manage_pool = _role_rule(
    "can_manage_pool",
    "Coordinators and admins manage the shared expert and resource pool.",
    *COORDINATOR_ROLES,
)
can_see_contacts = _role_rule(
    "can_see_contacts",
    "Expert phone numbers and e-mail addresses: only for the roles that contact experts.",
    *CONTACT_ROLES,
)
can_export = _role_rule(
    "can_export",
    "List exports carry contact details: every role but the read-only observer.",
    *EDITOR_ROLES,
    Role.LEADER,
)
can_change_need_status = _role_rule(
    "can_change_need_status",
    "Coordinators and admins move a need through the status workflow by hand.",
    *COORDINATOR_ROLES,
)
can_delete_records = _role_rule(
    "can_delete_records",
    "Coordinators and admins move centre records to the trash and restore them.",
    *COORDINATOR_ROLES,
)
can_purge = _role_rule(
    "can_purge",
    "Only admins delete a record from the trash for good.",
    *ADMIN_ROLES,
)
can_handle_personal_data = _role_rule(
    "can_handle_personal_data",
    "Admins export or erase a person's data (the data-protection requests).",
    *ADMIN_ROLES,
)
can_edit_reports = _role_rule(
    "can_edit_reports",
    "Coordinators and admins edit report text; leaders and members read.",
    *COORDINATOR_ROLES,
)


def can_create_centre_data(user: User) -> bool:
    """Members, coordinators and admins of a centre record visits, needs and organisations."""
    return user.has_role(*EDITOR_ROLES) and user.centre_id is not None


def can_edit_owned(user: User, obj: Any) -> bool:
    """Coordinators and admins edit any centre record; members edit what they created."""
    if user.has_role(*COORDINATOR_ROLES):
        return True
    return user.has_role(Role.MEMBER) and getattr(obj, "created_by_id", None) == user.id


def can_attach(user: User) -> bool:
    """Editors of a centre attach files to its visits and needs; leaders only read."""
    return can_create_centre_data(user)


def can_import(user: User) -> bool:
    """Coordinators and admins import spreadsheets and merge duplicate companies."""
    return bool(user.is_authenticated and user.has_role(*COORDINATOR_ROLES))


def can_see_reports(user: User) -> bool:
    """Reports and the dashboard: everyone attached to a centre, consortium leaders, sysadmins."""
    return bool(
        user.is_authenticated
        and (user.centre_id is not None or user.is_consortium or is_sysadmin(user))
    )


def sees_reports_in_menu(user: User) -> bool:
    """The menu offers reports to users of a centre and consortium leaders.

    Narrower than can_see_reports: a system administrator with no centre reaches the pages
    by address but is not offered the menu entry (kept as it was; see docs/architecture.md).
    """
    return bool(user.is_authenticated and (user.centre_id is not None or user.is_consortium))


def can_see_audit(user: User) -> bool:
    """The audit trail of every centre is the deployment administrator's."""
    return bool(user.is_authenticated and is_sysadmin(user))


def require(condition: bool) -> None:
    """Abort with 403 unless condition holds."""
    if not condition:
        abort(403)


def roles_required(*roles: Role) -> Callable:
    """Decorator: the current user must have one of roles (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require(current_user.is_authenticated and current_user.has_role(*roles))
            return view(*args, **kwargs)

        return wrapped

    return decorator
