"""Resource pages (labs, platforms, learning factories, achievements, patents)."""

from __future__ import annotations

from flask import Blueprint

from needs_tracker.common.hooks import RESOURCE_PANELS
from needs_tracker.common.listing import ListSpec
from needs_tracker.experts.forms import ResourceForm
from needs_tracker.experts.models import Resource
from needs_tracker.experts.pool_views import PoolKind, add_pool_pages
from needs_tracker.experts.services import (
    RESOURCE_FIELDS,
    RESOURCE_SEARCH_COLUMNS,
    ResourceData,
    create_resource,
    delete_resource,
    filter_resources,
    update_resource,
)

resources_bp = Blueprint("resources", __name__, url_prefix="/resources")

RESOURCE_LIST = ListSpec(
    sortable={"name": Resource.name, "kind": Resource.kind, "owner": Resource.owner_organisation},
    default_sort="name",
    search_columns=list(RESOURCE_SEARCH_COLUMNS),
)

add_pool_pages(
    PoolKind(
        blueprint=resources_bp,
        model=Resource,
        noun="resource",
        form=ResourceForm,
        data=ResourceData,
        list_spec=RESOURCE_LIST,
        filter_list=filter_resources,
        create=create_resource,
        update=update_resource,
        delete=delete_resource,
        stale_fields=RESOURCE_FIELDS,
        panels=RESOURCE_PANELS,
    )
)
