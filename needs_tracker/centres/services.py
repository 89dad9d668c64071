"""Centre services."""

from __future__ import annotations

from sqlalchemy import select

from needs_tracker.centres.models import Centre, CoBuildingPartner
from needs_tracker.extensions import db


class CentreError(ValueError):
    """Invalid centre data."""


def create_centre(name: str, region: str = "", partners: list[str] | None = None) -> Centre:
    """Create a centre with its co-building organisations."""
    name = name.strip()
    if not name:
        raise CentreError("empty name")
    if db.session.scalar(select(Centre.id).where(Centre.name == name)):
        raise CentreError(f"centre {name!r} exists")
    centre = Centre(name=name, region=region.strip())
    set_partners(centre, partners or [])
    db.session.add(centre)
    db.session.flush()
    return centre


def set_partners(centre: Centre, names: list[str]) -> None:
    """Replace a centre's co-building organisations, keeping their order."""
    clean = [n.strip() for n in names if n.strip()]
    centre.partners = [CoBuildingPartner(name=n, position=i) for i, n in enumerate(clean)]
