"""Import every model so that metadata, Alembic and create_all see the whole schema."""

import needs_tracker.api.models
import needs_tracker.audit.models
import needs_tracker.imports.models
import needs_tracker.matching.models
import needs_tracker.ops.models
import needs_tracker.reports.models  # noqa: F401 - feature models register their tables
from needs_tracker.auth.models import LoginFailure, User
from needs_tracker.centres.models import Centre, CoBuildingPartner
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.needs.models import Need, NeedStatusChange
from needs_tracker.organisations.models import Organisation
from needs_tracker.taxonomy.models import TechField
from needs_tracker.visits.models import Visit, VisitTeamMember

__all__ = [
    "Centre",
    "CoBuildingPartner",
    "Expert",
    "LoginFailure",
    "Need",
    "NeedStatusChange",
    "Organisation",
    "Resource",
    "TechField",
    "User",
    "Visit",
    "VisitTeamMember",
]
