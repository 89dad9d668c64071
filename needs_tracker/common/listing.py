"""List pages: text search, sorting, date ranges and pagination from query-string args."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination, SelectPagination
from sqlalchemy import Select, func, or_, select

from needs_tracker.extensions import db


@dataclass
class ListSpec:
    """How one list page searches and sorts."""

    sortable: dict[str, Any]
    default_sort: str
    search_columns: list[Any] = field(default_factory=list)
    # An indexed search that replaces the substring match over search_columns.
    searcher: Callable[[Select, str], Select] | None = None

    def search(self, stmt: Select, q: str) -> Select:
        """Rows matching q, through the list's own searcher or its search columns."""
        if q and self.searcher is not None:
            return self.searcher(stmt, q)
        return text_search(stmt, self.search_columns, q)


@dataclass
class ListState:
    """The parsed arguments of a list request, for the template."""

    q: str
    sort: str
    errors: list[str]
    args: dict[str, str]

    def sort_link_args(self, key: str) -> dict[str, str]:
        """Query args that sort by key, toggling direction when already sorted by it."""
        new = f"-{key}" if self.sort == key else key
        return {**self.args, "sort": new, "page": "1"}

    def page_args(self, page: int) -> dict[str, str]:
        """Query args for another page of the same list."""
        return {**self.args, "page": str(page)}


def parse_date_arg(
    name: str, errors: list[str], args: Mapping[str, str] | None = None
) -> date | None:
    """Read an ISO date from the query string (or args); record an error instead of failing."""
    raw = (request.args if args is None else args).get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        from flask_babel import gettext as _

        errors.append(_("Not a valid date: %(value)s (use YYYY-MM-DD)", value=raw[:20]))
        return None


def filter_date_range(
    stmt: Select, column: Any, errors: list[str], args: Mapping[str, str] | None = None
) -> Select:
    """Keep rows whose column lies within ?from= .. ?to= (inclusive); bad dates go to errors."""
    start = parse_date_arg("from", errors, args)
    end = parse_date_arg("to", errors, args)
    if start:
        stmt = stmt.where(column >= start)
    if end:
        stmt = stmt.where(column <= end)
    return stmt


def filter_field(stmt: Select, args: Mapping[str, str], assoc: Any, model: Any) -> Select:
    """Keep rows of model tagged (through the association table assoc) with ?field=<id>."""
    field_id = args.get("field", "")
    if field_id.isdigit():
        key = next(c for c in assoc.c if c.name != "field_id")
        stmt = stmt.where(model.id.in_(select(key).where(assoc.c.field_id == int(field_id))))
    return stmt


def known_districts() -> list[str]:
    """Districts of the organisations in scope, for the district filter's choices."""
    from needs_tracker.organisations.models import Organisation

    return list(
        db.session.scalars(
            select(Organisation.district)
            .where(Organisation.district != "")
            .distinct()
            .order_by(Organisation.district)
        )
    )


def text_search(stmt: Select, columns: list[Any], q: str) -> Select:
    """Rows where any of columns contains q, case-insensitively; % and _ in q are literal."""
    if q and columns:
        stmt = stmt.where(or_(*(col.icontains(q, autoescape=True) for col in columns)))
    return stmt


def apply_list(stmt: Select, spec: ListSpec) -> tuple[Select, ListState]:
    """Apply search and sort from request.args to stmt."""
    q = request.args.get("q", "").strip()[:100]
    stmt = spec.search(stmt, q)
    sort = request.args.get("sort", spec.default_sort)
    key = sort.lstrip("-")
    if key not in spec.sortable:
        sort = spec.default_sort
        key = sort.lstrip("-")
    column = spec.sortable[key]
    order = column.desc() if sort.startswith("-") else column.asc()
    # A unique tie-breaker keeps pages stable when many rows share a sort value.
    pk = stmt.selected_columns[0].table.primary_key.columns.values()[0]
    stmt = stmt.order_by(order, pk.desc() if sort.startswith("-") else pk.asc())
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return stmt, ListState(q=q, sort=sort, errors=[], args=args)


# A list counts its rows up to this many (and a few pages past the one shown): counting
# every one of 300,000 needs on each page view cost more than the page itself.
COUNT_BOUND = 10_000


class BoundedPagination(SelectPagination):
    """db.paginate's pagination with a bounded count: `total` stops at the bound and
    `more` says that there are further rows (the page shows "more than N")."""

    more: bool = False

    def _query_count(self) -> int:
        stmt = self._query_args["select"]
        session = self._query_args["session"]
        limit = max(COUNT_BOUND, (self.page + 5) * self.per_page)
        # Only the key is selected: the database counts index entries, not whole rows.
        pk = stmt.selected_columns[0].table.primary_key.columns.values()[0]
        sub = (
            stmt.with_only_columns(pk, maintain_column_froms=True)
            .order_by(None)
            .limit(limit + 1)
            .subquery()
        )
        n = session.execute(select(func.count()).select_from(sub)).scalar() or 0
        self.more = n > limit
        return min(n, limit)

    @property
    def has_next(self) -> bool:
        """True if a page exists after the current one (also past the counted rows)."""
        return self.more or self.page < self.pages


def paginate(stmt: Select) -> Pagination:
    """Paginate stmt with the configured page size (bounded by max_per_page), counting
    at most COUNT_BOUND rows."""
    per_page = current_app.config["PER_PAGE"]
    return BoundedPagination(
        select=stmt,
        session=db.session(),
        per_page=per_page,
        max_per_page=100,
        error_out=False,
    )
