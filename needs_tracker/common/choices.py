"""Enumerations stored as short strings, with their translated labels and import spellings.

One label per code: the English msgid here, its Chinese in the zh catalogue. Pages show it
in the user's language; documents (report, list exports) in Chinese through
`needs_tracker.i18n.in_locale`; the import accepts the code, both labels and the extra
spellings in `_SYNONYMS`. A new member with a label here appears in all of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

_REGISTRY: dict[str, type[LabelledEnum]] = {}


def labelled_enum(name: str) -> type[LabelledEnum]:
    """A labelled enum by its class name, wherever it is declared (for generic packages).

    Audit and other packages below the features look a feature's enum up here instead of
    importing the feature; an enum is registered when its module is imported.
    """
    return _REGISTRY[name]


class LabelledEnum(StrEnum):
    """A string enum whose members carry a translatable label."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

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

    @classmethod
    def optional_choices(cls) -> list[SelectChoice]:
        """Choices led by a blank ("—"), for a select field that may be left empty."""
        return [SelectChoice("", "—"), *cls.choices()]

    @classmethod
    def labels_in(cls, locale: str = "zh") -> dict[str, str]:
        """Map each value to its label in locale, in member order (for documents)."""
        from needs_tracker.i18n import in_locale

        return {m.value: in_locale(m.label, locale) for m in cls}

    @classmethod
    def spellings(cls) -> dict[str, tuple[str, ...]]:
        """Each value with what an imported cell may say for it: code, labels, synonyms."""
        from needs_tracker.i18n import in_locale

        extra = _SYNONYMS.get(cls.__name__, {})
        return {
            m.value: (
                m.value,
                in_locale(m.label, "zh"),
                in_locale(m.label, "en"),
                *extra.get(m.value, ()),
            )
            for m in cls
        }

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

# Spellings an import also accepts beyond the code and the zh and English labels (the
# words people type in their own sheets: 公司 for 企业, 中 for 中型).
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "OrganisationKind": {
        "company": ("公司",),
        "university": ("大学",),
        "institute": ("研究院",),
        "government": ("政府",),
    },
    "CompanySize": {"large": ("大",), "medium": ("中",), "small": ("小",), "micro": ("微",)},
    "VisitStatus": {"planned": ("计划",)},
    "NeedType": {"rnd": ("R&D",), "equipment": ("设备",)},
    "Urgency": {"low": ("低",), "medium": ("中",), "high": ("高",)},
    "ResourceKind": {"test_platform": ("检测平台",), "achievement": ("成果",)},
}
