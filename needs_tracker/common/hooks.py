"""The extension points features plug into: every hook's name and signature, declared here.

A core page asks a hook for what features added (a need's page collects NEED_PANELS); a
feature adds to hooks in its init_app (matching adds its suggestions panel). ``Hook.add``
checks the item against the hook's declared signature, so a panel with the wrong arguments
fails when the app starts, not when a page renders. The lists live in ``app.extensions``
under the hook's name, one per app.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from flask import Flask, current_app
from markupsafe import Markup


class RecordPanel(Protocol):
    """A panel of a detail page: HTML, or None to show nothing."""

    def __call__(self, record: Any, user: Any, /) -> Markup | None:
        """Called with the record shown and the current user."""


class HomePanel(Protocol):
    """A panel of the home page: HTML, or None to show nothing."""

    def __call__(self, user: Any, /) -> Markup | None:
        """Called with the current user."""


class OrganisationCreateCheck(Protocol):
    """A warning (HTML) that holds back a new organisation until the user confirms, or None."""

    def __call__(self, values: Mapping[str, Any], centre_id: int | None, /) -> Markup | None:
        """Called with the organisation's values and the centre it is created in."""


class OrganisationLookalikes(Protocol):
    """Organisations of a centre that may be the one about to be created (best first)."""

    def __call__(self, name: str, credit_code: str | None, centre_id: int, /) -> list[Any]:
        """Called with the new organisation's name, credit code and centre."""


class DemoSeeder(Protocol):
    """Adds a feature's demo records after `flask demo seed` has made the core ones."""

    def __call__(self, result: Any, /) -> Any:
        """Called with the core seed's result (demo/seed.py SeedResult)."""


class NavItem(TypedDict):
    """A menu entry: the endpoint it links to, its label, and who sees it."""

    endpoint: str
    label: Any  # str or lazy string
    visible: Callable[[Any], bool]  # a permissions predicate of the user


@dataclass(frozen=True)
class Hook:
    """One extension point: its name, the type of what is added, and what it is for."""

    name: str
    signature: type
    doc: str

    def add(self, app: Flask, item: Any) -> None:
        """Add item (a callable of the hook's signature, or a NavItem) to app's hook."""
        self._check(item)
        app.extensions[self.name].append(item)

    def items(self, app: Flask | None = None) -> list[Any]:
        """What features added, in the order they added it (current_app by default)."""
        return (app or current_app).extensions.get(self.name, [])

    def collect(self, *args: Any) -> list[Any]:
        """Call every added callable with args; the results that are not empty."""
        return [result for fn in self.items() if (result := fn(*args))]

    def _check(self, item: Any) -> None:
        if self.signature is NavItem:
            if not isinstance(item, dict) or set(item) != set(NavItem.__annotations__):
                raise TypeError(
                    f"hook {self.name}: a menu entry has {list(NavItem.__annotations__)}"
                )
            if not callable(item["visible"]):
                raise TypeError(f"hook {self.name}: 'visible' must be a predicate of the user")
            return
        expected = [
            p
            for p in inspect.signature(self.signature.__call__).parameters.values()
            if p.name != "self"
        ]
        try:
            inspect.signature(item).bind(*(None for _ in expected))
        except TypeError as exc:
            raise TypeError(
                f"hook {self.name}: {item!r} must take {len(expected)} argument(s) "
                f"({', '.join(p.name for p in expected)})"
            ) from exc


NAV_ITEMS = Hook("nav_items", NavItem, "Entries of the main menu after the core ones.")
HOME_PANELS = Hook("home_panels", HomePanel, "Panels of the home page.")
NEED_PANELS = Hook("need_panels", RecordPanel, "Panels of a need's page.")
VISIT_PANELS = Hook("visit_panels", RecordPanel, "Panels of a visit's page.")
ORGANISATION_PANELS = Hook("organisation_panels", RecordPanel, "Panels of an organisation's page.")
EXPERT_PANELS = Hook("expert_panels", RecordPanel, "Panels of an expert's page.")
RESOURCE_PANELS = Hook("resource_panels", RecordPanel, "Panels of a resource's page.")
ORGANISATION_CREATE_CHECKS = Hook(
    "organisation_create_checks",
    OrganisationCreateCheck,
    "Checks run before an organisation is created from the form.",
)
ORGANISATION_LOOKALIKES = Hook(
    "organisation_lookalikes",
    OrganisationLookalikes,
    "Look-alike searches for a new organisation from a caller without a page (the API).",
)
DEMO_SEEDERS = Hook("demo_seeders", DemoSeeder, "Demo data of features, after the core demo.")

HOOKS: dict[str, Hook] = {
    hook.name: hook
    for hook in (
        NAV_ITEMS,
        HOME_PANELS,
        NEED_PANELS,
        VISIT_PANELS,
        ORGANISATION_PANELS,
        EXPERT_PANELS,
        RESOURCE_PANELS,
        ORGANISATION_CREATE_CHECKS,
        ORGANISATION_LOOKALIKES,
        DEMO_SEEDERS,
    )
}


def init_hooks(app: Flask) -> None:
    """Give app an empty list for every declared hook (before any feature adds to one)."""
    for name in HOOKS:
        app.extensions[name] = []
