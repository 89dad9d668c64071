"""Readable names for the audit trail's tables, columns and stored codes.

The trail stores raw column names and codes (status "in_progress"), which stay the forensic
record; these labels are only how the pages show them. A name without a label is shown as
stored, so a new column never disappears from a history, it just reads less well.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l

from needs_tracker.audit.services import format_value

TABLE_LABELS: dict[str, Any] = {
    "centres": _l("Service centre"),
    "centre_partners": _l("Co-building organisation"),
    "organisations": _l("Organisation"),
    "visits": _l("Visit"),
    "visit_team_members": _l("Service-team member"),
    "needs": _l("Need"),
    "need_status_changes": _l("Need status change"),
    "experts": _l("Expert"),
    "resources": _l("Resource"),
    "matches": _l("Match"),
    "match_transitions": _l("Match step"),
    "docking_events": _l("Docking meeting"),
    "tech_fields": _l("Technical field"),
    "users": _l("User"),
}

COLUMN_LABELS: dict[str, Any] = {
    "id": _l("ID"),
    "name": _l("Name"),
    "short_name": _l("Short name"),
    "title": _l("Title"),
    "description": _l("Description"),
    "kind": _l("Kind"),
    "credit_code": _l("Unified social credit code"),
    "district": _l("District"),
    "industry": _l("Industry"),
    "size": _l("Size"),
    "address": _l("Address"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "contact_email": _l("Contact email"),
    "contact": _l("Contact"),
    "notes": _l("Notes"),
    "note": _l("Note"),
    "region": _l("Region"),
    "organisation": _l("Organisation"),
    "organisation_id": _l("Organisation"),
    "organisation_name": _l("Organisation"),
    "owner_organisation": _l("Owner organisation"),
    "department": _l("Department"),
    "expertise": _l("Research areas"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "maturity": _l("Maturity"),
    "fields": _l("Technical fields"),
    "organisations": _l("Organisations visited"),
    "visits": _l("Visits"),
    "needs": _l("Needs"),
    "visit_id": _l("Visit"),
    "visit_date": _l("Visit date"),
    "purpose": _l("Purpose"),
    "summary": _l("Summary"),
    "need_id": _l("Need"),
    "need_type": _l("Need type"),
    "urgency": _l("Urgency"),
    "budget": _l("Budget (10k CNY)"),
    "collected_on": _l("Collected on"),
    "status": _l("Status"),
    "from_status": _l("From"),
    "to_status": _l("To"),
    "close_reason": _l("Reason for closing"),
    "status_changed_at": _l("Status changed at"),
    "changed_at": _l("Changed at"),
    "changed_by_id": _l("Changed by"),
    "created_by_id": _l("Created by"),
    "by_id": _l("By"),
    "at": _l("At"),
    "user_id": _l("User"),
    "centre_id": _l("Service centre"),
    "deleted_at": _l("Moved to trash at"),
    "created_at": _l("Created at"),
    "position": _l("Order"),
    "expert_id": _l("Expert"),
    "resource_id": _l("Resource"),
    "match_id": _l("Match"),
    "score": _l("Score"),
    "reasons": _l("Reasons"),
    "declined_by": _l("Declined by"),
    "decline_reason": _l("Reason for declining"),
    "decline_note": _l("Note on declining"),
    "amount": _l("Amount (10k CNY)"),
    "docking_event_id": _l("Docking meeting"),
    "keep_need_open": _l("Keep the need open"),
    "held_on": _l("Held on"),
    "place": _l("Place"),
    "attendees": _l("Attendees"),
    "minutes": _l("Minutes"),
    "username": _l("Username"),
    "display_name": _l("Display name"),
    "password_hash": _l("Password"),
    "role": _l("Role"),
    "is_consortium": _l("Consortium level"),
    "active": _l("Active"),
    "must_change_password": _l("Must change password"),
    "locked_until": _l("Locked until"),
}

# The same column name means another thing in some tables: an expert's title is 职称.
TABLE_COLUMN_LABELS: dict[tuple[str, str], Any] = {
    ("experts", "title"): _l("Professional title"),
    ("experts", "organisation"): _l("Employer"),
    ("docking_events", "title"): _l("Event title"),
    ("organisations", "kind"): _l("Organisation type"),
    ("resources", "kind"): _l("Resource type"),
    ("resources", "description"): _l("Description"),
    ("visit_team_members", "title"): _l("Professional title"),
    ("visit_team_members", "organisation_name"): _l("Team member's organisation"),
    ("centre_partners", "name"): _l("Co-building organisation"),
}


@cache
def _code_labels() -> dict[tuple[str | None, str], dict[str, Any]]:
    """(table or None for any table, column) -> {stored code: label}."""
    from needs_tracker.common.choices import (
        CompanySize,
        NeedStatus,
        NeedType,
        OrganisationKind,
        ResourceKind,
        Role,
        Urgency,
        VisitStatus,
        labelled_enum,
    )

    # Features' own enums are found by name in the enums' registry (filled when their models
    # load, as they all do at app start), so audit imports no feature.
    match_status = labelled_enum("MatchStatus").labels()
    need_status = NeedStatus.labels()
    return {
        ("needs", "status"): need_status,
        ("need_status_changes", "from_status"): need_status,
        ("need_status_changes", "to_status"): need_status,
        ("matches", "status"): match_status,
        ("match_transitions", "from_status"): match_status,
        ("match_transitions", "to_status"): match_status,
        ("visits", "status"): VisitStatus.labels(),
        ("organisations", "kind"): OrganisationKind.labels(),
        ("resources", "kind"): ResourceKind.labels(),
        (None, "size"): CompanySize.labels(),
        (None, "need_type"): NeedType.labels(),
        (None, "urgency"): Urgency.labels(),
        (None, "role"): Role.labels(),
        (None, "decline_reason"): labelled_enum("DeclineReason").labels(),
    }


def table_label(table: str) -> Any:
    """The name of a kind of record, e.g. 需求 for "needs"."""
    return TABLE_LABELS.get(table, table)


def column_label(column: str, table: str | None = None) -> Any:
    """The name of a recorded value, e.g. 状态 for "status"; table picks a table's own name."""
    if table is not None and (table, column) in TABLE_COLUMN_LABELS:
        return TABLE_COLUMN_LABELS[(table, column)]
    return COLUMN_LABELS.get(column, column)


def value_label(table: str, column: str, value: Any) -> str:
    """A recorded value as the pages show it: codes by their labels, the rest as stored."""
    labels = _code_labels()
    codes = labels.get((table, column)) or labels.get((None, column))
    if codes is not None and isinstance(value, str) and value in codes:
        return str(codes[value])
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        # Times are stored as ISO 8601 with microseconds; seconds (UTC, as the table says)
        # are what a reader needs.
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            pass
    return format_value(value)
