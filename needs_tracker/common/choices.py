"""Enumerations stored as short strings, with their translated labels."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice


class LabelledEnum(StrEnum):
    """A string enum whose members carry a translatable label."""

    @classmethod
    def labels(cls) -> dict[str, object]:
        """Map each value to its lazy label."""
        return {m.value: m.label for m in cls}

    @classmethod
    def pairs(cls) -> list[tuple[str, object]]:
        """(value, label) pairs, for templates."""
        return [(m.value, m.label) for m in cls]

    @classmethod
    def choices(cls) -> list[SelectChoice]:
        """Choices for a WTForms select field."""
        return [SelectChoice(m.value, m.label) for m in cls]

    @property
    def label(self):
        """Translated label of this member."""
        return _LABELS[type(self).__name__][self.value]


class Role(LabelledEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"
    LEADER = "leader"
    OBSERVER = "observer"  # reads its centre, writes and exports nothing
    ADMIN = "admin"  # a centre's administrator: its users, imports, trash
    SYSADMIN = "sysadmin"  # the deployment's administrator: every centre, centres themselves


class OrganisationKind(LabelledEnum):
    COMPANY = "company"
    UNIVERSITY = "university"
    INSTITUTE = "institute"
    GOVERNMENT = "government"
    OTHER = "other"


class CompanySize(LabelledEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"


class VisitStatus(LabelledEnum):
    PLANNED = "planned"
    DONE = "done"


class NeedType(LabelledEnum):
    RND = "rnd"
    TALENT = "talent"
    EQUIPMENT = "equipment"
    TRANSFER = "transfer"
    FINANCING = "financing"
    POLICY = "policy"
    OTHER = "other"


class Urgency(LabelledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class NeedStatus(LabelledEnum):
    COLLECTED = "collected"
    ASSESSING = "assessing"
    MATCHING = "matching"
    MATCHED = "matched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ResourceKind(LabelledEnum):
    LAB = "lab"
    PLATFORM = "platform"
    LEARNING_FACTORY = "learning_factory"
    TEST_PLATFORM = "test_platform"
    ACHIEVEMENT = "achievement"
    PATENT = "patent"
    OTHER = "other"


_LABELS: dict[str, dict[str, object]] = {
    "Role": {
        "member": _l("Service-team member"),
        "coordinator": _l("Coordinator"),
        "leader": _l("Leader"),
        "observer": _l("Observer (read-only)"),
        "admin": _l("Centre administrator"),
        "sysadmin": _l("System administrator"),
    },
    "OrganisationKind": {
        "company": _l("Company"),
        "university": _l("University"),
        "institute": _l("Research institute"),
        "government": _l("Government body"),
        "other": _l("Other"),
    },
    "CompanySize": {
        "large": _l("Large"),
        "medium": _l("Medium"),
        "small": _l("Small"),
        "micro": _l("Micro"),
    },
    "VisitStatus": {"planned": _l("Planned"), "done": _l("Done")},
    "NeedType": {
        "rnd": _l("Technical R&D"),
        "talent": _l("Talent training"),
        "equipment": _l("Equipment / platform"),
        "transfer": _l("Technology transfer"),
        "financing": _l("Financing"),
        "policy": _l("Policy consulting"),
        "other": _l("Other"),
    },
    "Urgency": {"low": _l("Normal"), "medium": _l("Fairly urgent"), "high": _l("Urgent")},
    "NeedStatus": {
        "collected": _l("Collected"),
        "assessing": _l("Assessing"),
        "matching": _l("Matching"),
        "matched": _l("Matched"),
        "in_progress": _l("In progress"),
        "resolved": _l("Resolved"),
        "closed": _l("Closed"),
    },
    "ResourceKind": {
        "lab": _l("Laboratory"),
        "platform": _l("Platform"),
        "learning_factory": _l("Learning factory"),
        "test_platform": _l("Test platform"),
        "achievement": _l("Technology achievement"),
        "patent": _l("Patent"),
        "other": _l("Other"),
    },
}
