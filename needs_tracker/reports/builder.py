"""Pure pandas report builder: DataFrames in, a Report out (no Flask, no SQLAlchemy).

Two kinds of input (see ReportInput):
- **monthly facts** (FACT_COLUMNS): small aggregated frames, one row per month and per thing
  that is counted (a count, or an id where a figure counts distinct things over several
  months). Every figure of the report and of the dashboard is computed from them, here, by
  the rules of kpis.py; queries/facts.py fill them with grouped SQL, the cache keeps closed
  months, tests build them by hand.
- **rows for the tables** (COLUMNS): the period's visits, team, organisations, match steps and
  meetings, for the text and the tables that name things.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from needs_tracker.reports import kpis as K

PROGRESS_MATCH_STATUSES = ("contacted", "meeting_held", "agreement", "resolved")

COLUMNS: dict[str, list[str]] = {
    # done and planned visits from the period's start to the end of the month after it
    "visits": ["id", "visit_date", "status", "purpose"],
    "visit_orgs": ["visit_id", "organisation_id"],
    "organisations": ["id", "name", "short_name", "kind", "district", "deleted"],
    # the team of the period's done visits
    "team": ["visit_id", "position", "name", "title", "organisation_name"],
    # needs collected in the period (the spreadsheet's raw rows only)
    "needs": [
        "id",
        "organisation_id",
        "visit_id",
        "title",
        "collected_on",
        "status",
        "need_type",
        "urgency",
    ],
    "need_fields": ["need_id", "field"],
    # match transitions in the period, with the match and its need and candidate
    "transitions": [
        "match_id",
        "to_status",
        "at",
        "need_id",
        "need_title",
        "collected_on",
        "organisation_id",
        "candidate",
        "candidate_org",
        "candidate_title",
        "candidate_kind",
        "amount",
    ],
    # docking meetings from the period's start to the end of the month after the period;
    # recorded_held: a match of the meeting reached "docking meeting held"
    "events": ["id", "title", "held_on", "recorded_held"],
    # the longest-waiting open needs by the staleness rule of kpis.py (queries.stale_needs)
    "stale": ["id", "title", "company", "status", "moved_at", "days"],
}

# The monthly facts. "month" is "YYYY-MM" (timestamps placed by their UTC date, kpis.day_start);
# every value is a plain JSON value (int, str, float, bool), so a month read back from the cache
# is the month as computed.
FACT_COLUMNS: dict[str, list[str]] = {
    # done visits, per centre
    "visits": ["month", "centre_id", "visits"],
    # live organisations on the month's done visits, once per month; first_month: the month of
    # the organisation's first done visit ever (a revisit when it is before the period)
    "visited": ["month", "organisation_id", "kind", "first_month"],
    # people on the month's done visits, once per month
    "team": ["month", "name", "organisation_name"],
    # live needs collected in the month, counted by each dimension in NEED_DIMENSIONS (a need
    # counts once per dimension; "field" counts its links to fields)
    "needs": ["month", "dimension", "value", "n"],
    # needs recommended in the month (n proposed steps), with their collection month and
    # their first step ever (month, and days from collection to its UTC date)
    "proposals": [
        "month",
        "centre_id",
        "need_id",
        "collected_month",
        "first_month",
        "first_days",
        "n",
    ],
    # matches that reached an agreement in the month, with the amount (10k CNY)
    "agreements": ["month", "match_id", "amount"],
    # docking meetings dated in the month, by day and by whether a match recorded them held
    "events": ["month", "held_on", "recorded_held", "n"],
    # needs resolved in the month: the month's first resolution, days from collection
    "resolutions": ["month", "centre_id", "need_id", "days"],
}
NEED_DIMENSIONS = ("centre", "status", "type", "urgency", "district", "field")


def month_key(day: date) -> str:
    """The month of a day as the facts name it: "YYYY-MM"."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass
class Period:
    """A range of whole months, first day to last day inclusive."""

    start: date
    end: date

    @classmethod
    def months(cls, first: str, last: str | None = None) -> Period:
        """Period from "YYYY-MM" to "YYYY-MM" (inclusive); one month when last is None."""
        y1, m1 = (int(p) for p in first.split("-"))
        y2, m2 = (int(p) for p in (last or first).split("-"))
        start, last_month = date(y1, m1, 1), date(y2, m2, 1)
        if last_month < start:
            raise ValueError("period ends before it starts")
        return cls(start, _month_end(last_month))

    @property
    def n_months(self) -> int:
        """Number of months covered."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        first = add_months(self.start, -self.n_months)
        return Period(first, self.start - timedelta(days=1))

    def following_month(self) -> Period:
        """The month after the period (the next-month plan's horizon)."""
        first = self.end + timedelta(days=1)
        return Period(first, _month_end(first))

    def month_keys(self) -> list[str]:
        """The months covered, as the facts name them ("YYYY-MM")."""
        return [month_key(add_months(self.start, i)) for i in range(self.n_months)]

    def label(self) -> str:
        """The report's own heading, e.g. "2021 年 1-3 月"."""
        if self.start.year == self.end.year:
            if self.n_months == 1:
                return f"{self.start.year} 年 {self.start.month} 月"
            return f"{self.start.year} 年 {self.start.month}-{self.end.month} 月"
        return f"{self.start.year} 年 {self.start.month} 月-{self.end.year} 年 {self.end.month} 月"


def _month_end(day: date) -> date:
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


def add_months(day: date, n: int) -> date:
    """The first day of the month n months after day's month (n may be negative)."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


TIME_COLUMNS = {
    "visit_date",
    "collected_on",
    "held_on",
    "at",
    "changed_at",
    "status_changed_at",
}


def _naive(series: pd.Series) -> pd.Series:
    """Dates, naive or aware datetimes -> naive UTC datetime64."""
    return pd.to_datetime(series, utc=True).dt.tz_localize(None)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class ReportInput:
    """Everything the builder reads.

    facts: the monthly facts (FACT_COLUMNS) from the previous period's first month to the
    period's last; frames: the rows of the tables (COLUMNS).
    """

    centre: str
    region: str
    partners: list[str]
    period: Period
    frames: dict[str, pd.DataFrame]
    facts: dict[str, pd.DataFrame] | Facts = field(default_factory=dict)
    open_needs: int = 0
    # the day the figures are true on: a meeting dated after it is planned, not held
    as_of: date = field(default_factory=date.today)
    stale_total: int = 0
    # the months whose facts were read from the cache (the others were counted afresh)
    cached_months: list[str] = field(default_factory=list)

    def frame(self, name: str) -> pd.DataFrame:
        """The named frame with its columns (empty frames keep their columns).

        Date and time columns come back as naive UTC datetime64, converted once.
        """
        cache = self.__dict__.setdefault("_normalised", {})
        if name in cache:
            return cache[name]
        df = self.frames.get(name)
        if df is None or df.empty:
            df = _empty(COLUMNS[name])
        else:
            df = df.copy()
            # frames built before a column was added (tests, snapshots) get it empty
            for column in COLUMNS[name]:
                if column not in df.columns:
                    df[column] = None
            for column in TIME_COLUMNS.intersection(df.columns):
                df[column] = _naive(df[column])
        cache[name] = df
        return df


@dataclass
class Figures:
    """The numbers of one period."""

    visits: int = 0
    organisations_visited: int = 0
    companies_visited: int = 0
    companies_new: int = 0
    companies_revisited: int = 0
    team_members: int = 0
    needs_collected: int = 0
    needs_by_field: dict[str, int] = field(default_factory=dict)
    needs_by_type: dict[str, int] = field(default_factory=dict)
    needs_by_district: dict[str, int] = field(default_factory=dict)
    needs_by_urgency: dict[str, int] = field(default_factory=dict)
    matches_made: int = 0
    needs_matched: int = 0
    # of needs_matched, those collected before the period (a recommendation is counted by
    # its own date, not the need's)
    needs_matched_earlier: int = 0
    docking_meetings: int = 0
    planned_meetings: int = 0
    agreements: int = 0
    agreement_amount: float = 0.0
    resolved: int = 0
    median_days_to_first_match: float | None = None
    median_days_to_resolved: float | None = None


SCALARS = (
    "visits",
    "organisations_visited",
    "companies_visited",
    "companies_new",
    "companies_revisited",
    "team_members",
    "needs_collected",
    "matches_made",
    "needs_matched",
    "needs_matched_earlier",
    "docking_meetings",
    "planned_meetings",
    "agreements",
    "resolved",
)


@dataclass
class Report:
    """A built report: figures, the previous period's, tables and the generated text."""

    centre: str
    period: Period
    current: Figures
    previous: Figures
    team: list[dict[str, str]]
    visited: list[dict[str, Any]]
    projects: list[dict[str, Any]]
    stale: list[dict[str, Any]]
    planned: list[dict[str, Any]]
    narrative: str
    next_month_plan: str
    open_needs: int = 0
    meetings: list[dict[str, Any]] = field(default_factory=list)
    stale_total: int = 0

    def change(self) -> dict[str, int]:
        """Change of each count vs the previous period."""
        return {k: getattr(self.current, k) - getattr(self.previous, k) for k in SCALARS}

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape (see the CLI contract)."""
        cur = asdict(self.current)
        out: dict[str, Any] = {
            "centre": self.centre,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
            "period_label": self.period.label(),
        }
        out.update(cur)
        out.update(
            {
                "previous": asdict(self.previous),
                "change": self.change(),
                "team": self.team,
                "visited": self.visited,
                "projects": self.projects,
                "stale_needs": self.stale,
                "stale_total": self.stale_total,
                "planned_visits": self.planned,
                "meetings": self.meetings,
                "open_needs": self.open_needs,
                "narrative": self.narrative,
                "next_month_plan": self.next_month_plan,
            }
        )
        return out


# ---------------------------------------------------------------------------- figures


def _in(series: pd.Series, period: Period) -> pd.Series:
    if not pd.api.types.is_datetime64_dtype(series):
        series = _naive(series)
    start = pd.Timestamp(period.start)
    stop = pd.Timestamp(period.end + timedelta(days=1))
    return (series >= start) & (series < stop)


def _median(days: list[Any]) -> float | None:
    values = [float(d) for d in days if d is not None]
    return float(statistics.median(values)) if values else None


def _orgs(inp: ReportInput) -> dict[int, dict[str, Any]]:
    """Organisations by id (plain dicts: row lookups in pandas are slow), built once."""
    cache = inp.__dict__.setdefault("_orgs", None)
    if cache is None:
        orgs = inp.frame("organisations")
        names = COLUMNS["organisations"]
        rows = zip(*(orgs[c].tolist() for c in names), strict=True)
        cache = {int(r[0]): dict(zip(names, r, strict=True)) for r in rows}
        inp.__dict__["_orgs"] = cache
    return cache


def _short(org: dict[str, Any] | None) -> str:
    if org is None:
        return ""
    return str(org["short_name"] or org["name"])


def _grouped(df: pd.DataFrame, key: str, column: str) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for k, v in zip(df[key].tolist(), df[column].tolist(), strict=True):
        out.setdefault(k, []).append(v)
    return out


def _done_visits(inp: ReportInput, period: Period) -> pd.DataFrame:
    visits = inp.frame("visits")
    return visits[(visits["status"] == "done") & _in(visits["visit_date"], period)]


def _month_number(keys: Any) -> np.ndarray:
    """ "YYYY-MM" -> year * 12 + month - 1, for comparing months as integers."""
    numbers: dict[str, int] = {}
    for k in keys:
        if k not in numbers:
            numbers[k] = int(k[:4]) * 12 + int(k[5:7]) - 1
    return np.array([numbers[k] for k in keys], dtype=np.int64)


def _number(day: date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class _Count:
    """A figure that is a sum of a column, or its distinct values, over a period's months."""

    frame: str
    column: str
    distinct: bool = False
    # only the rows whose column has this value
    where: tuple[str, str] | None = None


# The figures that are one count of the facts (the dashboard's series among them): over several
# months, a sum where each row is its own event, distinct ids where a company or a need is
# counted once however many months it appears in.
COUNTS: dict[str, _Count] = {
    "visits": _Count("visits", "visits"),
    "organisations_visited": _Count("visited", "organisation_id", distinct=True),
    "companies_visited": _Count("visited", "organisation_id", True, ("kind", K.COMPANY)),
    # every live need has one type (possibly blank), so the type counts add up to the needs
    "needs_collected": _Count("needs", "n", where=("dimension", "type")),
    "matches_made": _Count("proposals", "n"),
    "needs_matched": _Count("proposals", "need_id", distinct=True),
    "agreements": _Count("agreements", "match_id", distinct=True),
    "resolved": _Count("resolutions", "need_id", distinct=True),
}


MONTH_COLUMNS = frozenset({"first_month", "collected_month"})


class Facts:
    """The monthly facts of some months, each frame with the columns of FACT_COLUMNS.

    Every figure of the report and of the dashboard is computed here from the months of a
    period: the one place where a month's counts become a period's figures. The frames are
    small (one row per month and per thing counted), so the figures are read from their
    columns as arrays: a dashboard asks for the figures of some thirty periods.
    """

    def __init__(self, frames: dict[str, pd.DataFrame] | None = None) -> None:
        columns: dict[str, dict[str, list[Any]]] = {}
        for name, names in FACT_COLUMNS.items():
            df = (frames or {}).get(name)
            if df is not None and not df.empty:
                columns[name] = {c: df[c].tolist() for c in names}
        self._load(columns)

    @classmethod
    def from_columns(cls, columns: dict[str, dict[str, list[Any]]]) -> Facts:
        """Facts from plain column lists ({frame: {column: values}}), as the cache keeps them."""
        facts = cls.__new__(cls)
        facts._load(columns)
        return facts

    def _load(self, columns: dict[str, dict[str, list[Any]]]) -> None:
        self._columns: dict[str, dict[str, np.ndarray]] = {}
        self._months: dict[str, np.ndarray] = {}
        for name, names in FACT_COLUMNS.items():
            given = columns.get(name) or {}
            size = len(given.get("month", []))
            self._columns[name] = {}
            for c in names:
                values = np.empty(size, dtype=object)
                values[:] = given.get(c, [None] * size)
                self._columns[name][c] = values
            self._months[name] = _month_number(given.get("month", []))
            # the other month columns as numbers too, converted once
            for c in MONTH_COLUMNS.intersection(names):
                self._columns[name][c + "#"] = _month_number(given.get(c, []))

    @property
    def frames(self) -> dict[str, pd.DataFrame]:
        """The facts as DataFrames (FACT_COLUMNS)."""
        return {
            name: pd.DataFrame({c: self._columns[name][c] for c in names}, columns=names)
            for name, names in FACT_COLUMNS.items()
        }

    def _rows(self, name: str, period: Period, where: tuple[str, Any] | None = None):
        months = self._months[name]
        mask = (months >= _number(period.start)) & (months <= _number(period.end))
        if where is not None:
            mask &= self._columns[name][where[0]] == where[1]
        return mask

    def column(self, name: str, column: str, mask: np.ndarray) -> np.ndarray:
        """A frame's column on the rows of mask."""
        return self._columns[name][column][mask]

    def count(self, figure: str, period: Period) -> int:
        """One of COUNTS for period."""
        spec = COUNTS[figure]
        values = self.column(spec.frame, spec.column, self._rows(spec.frame, period, spec.where))
        if spec.distinct:
            return len(set(values.tolist()))
        return int(sum(int(v) for v in values.tolist()))

    def revisited(self, period: Period, kind: str | None = None) -> set[int]:
        """Organisations (of kind) visited in period and visited (done) before it."""
        mask = self._rows("visited", period, None if kind is None else ("kind", kind))
        mask &= self._columns["visited"]["first_month#"] < _number(period.start)
        return {int(org) for org in self.column("visited", "organisation_id", mask).tolist()}

    def need_counts(self, period: Period, dimension: str) -> dict[str, int]:
        """Live needs collected in period by one of NEED_DIMENSIONS, largest first."""
        mask = self._rows("needs", period, ("dimension", dimension))
        sums: dict[str, int] = {}
        values = self.column("needs", "value", mask).tolist()
        for value, n in zip(values, self.column("needs", "n", mask).tolist(), strict=True):
            key = "" if value is None else str(value)
            if dimension == "district" and key == "":
                key = "—"
            sums[key] = sums.get(key, 0) + int(n)
        # largest first; equal counts in the order of their names
        return dict(sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))

    def by_centre(self, period: Period) -> dict[str, dict[int, int]]:
        """Per-centre counts in period of the dashboard's series (visits, needs,
        recommendations, resolved needs), by the rules of COUNTS."""

        def per_centre(name: str, value: str, where=None, distinct=False, centre="centre_id"):
            mask = self._rows(name, period, where)
            centres = self.column(name, centre, mask).astype(np.int64)
            values = self.column(name, value, mask)
            if distinct:
                pairs = set(zip(centres.tolist(), values.tolist(), strict=True))
                out: dict[int, int] = {}
                for c, _v in pairs:
                    out[c] = out.get(c, 0) + 1
                return out
            ids, where_in = np.unique(centres, return_inverse=True)
            sums = np.bincount(where_in, weights=values.astype(np.int64), minlength=len(ids))
            return {int(c): int(n) for c, n in zip(ids.tolist(), sums.tolist(), strict=True)}

        return {
            "visits": per_centre("visits", "visits"),
            "needs": per_centre("needs", "n", ("dimension", "centre"), centre="value"),
            "matches": per_centre("proposals", "n"),
            "resolved": per_centre("resolutions", "need_id", distinct=True),
        }

    def figures(self, period: Period, as_of: date) -> Figures:
        """Figures of one period (as of a day: a meeting dated later is not held)."""
        first = _number(period.start)
        fig = Figures(**{name: self.count(name, period) for name in COUNTS})
        fig.companies_revisited = len(self.revisited(period, K.COMPANY))
        fig.companies_new = fig.companies_visited - fig.companies_revisited
        mask = self._rows("team", period)
        fig.team_members = len(
            set(
                zip(
                    self.column("team", "name", mask).tolist(),
                    self.column("team", "organisation_name", mask).tolist(),
                    strict=True,
                )
            )
        )
        fig.needs_by_type = self.need_counts(period, "type")
        fig.needs_by_field = self.need_counts(period, "field")
        fig.needs_by_urgency = self.need_counts(period, "urgency")
        fig.needs_by_district = self.need_counts(period, "district")

        mask = self._rows("proposals", period)
        needs: dict[int, tuple[int, int, int]] = {}
        for need, collected, first_month, days in zip(
            self.column("proposals", "need_id", mask).tolist(),
            self.column("proposals", "collected_month#", mask).tolist(),
            self.column("proposals", "first_month#", mask).tolist(),
            self.column("proposals", "first_days", mask).tolist(),
            strict=True,
        ):
            needs[need] = (collected, first_month, days)
        fig.needs_matched_earlier = sum(1 for c, _f, _d in needs.values() if c < first)
        # a need whose first recommendation ever falls in the period
        last = _number(period.end)
        fig.median_days_to_first_match = _median(
            [d for _c, f, d in needs.values() if first <= f <= last]
        )

        mask = self._rows("agreements", period)
        amounts: dict[int, Any] = {}
        for match, amount in zip(
            self.column("agreements", "match_id", mask).tolist(),
            self.column("agreements", "amount", mask).tolist(),
            strict=True,
        ):
            amounts.setdefault(match, amount)
        fig.agreement_amount = float(sum(float(a) for a in amounts.values() if a is not None))

        mask = self._rows("events", period)
        held = planned = 0
        for day, recorded, n in zip(
            self.column("events", "held_on", mask).tolist(),
            self.column("events", "recorded_held", mask).tolist(),
            self.column("events", "n", mask).tolist(),
            strict=True,
        ):
            if K.meeting_is_held(date.fromisoformat(str(day)), bool(recorded), as_of):
                held += int(n)
            else:
                planned += int(n)
        fig.docking_meetings, fig.planned_meetings = held, planned

        # each need once, at its first resolution in the period
        mask = self._rows("resolutions", period)
        rows = sorted(
            zip(
                self._months["resolutions"][mask].tolist(),
                self.column("resolutions", "need_id", mask).tolist(),
                self.column("resolutions", "days", mask).tolist(),
                strict=True,
            ),
            key=lambda r: r[0],
        )
        firsts_resolved: dict[int, int] = {}
        for _month, need, days in rows:
            firsts_resolved.setdefault(need, days)
        fig.median_days_to_resolved = _median(list(firsts_resolved.values()))
        return fig


def _facts(inp: ReportInput) -> Facts:
    if isinstance(inp.facts, Facts):
        return inp.facts
    cache = inp.__dict__.get("_facts")
    if cache is None:
        cache = inp.__dict__["_facts"] = Facts(inp.facts)
    return cache


def compute_figures(inp: ReportInput, period: Period) -> Figures:
    """Figures of one period from the input's monthly facts."""
    return _facts(inp).figures(period, inp.as_of)


def _events(inp: ReportInput, period: Period) -> pd.DataFrame:
    """Docking meetings dated in period, with "held" by the rule of kpis.py."""
    events = inp.frame("events")
    events = events[events["held_on"].notna()]
    events = events[_in(events["held_on"], period)].copy()
    events["held"] = [
        K.meeting_is_held(pd.Timestamp(d).date(), bool(r), inp.as_of)
        for d, r in zip(events["held_on"], events["recorded_held"].fillna(False), strict=True)
    ]
    return events.sort_values(["held_on", "id"])


# ---------------------------------------------------------------------------- tables


def meetings_table(inp: ReportInput, period: Period) -> list[dict[str, Any]]:
    """Docking meetings dated in period that are not held: still ahead, or not recorded held."""
    events = _events(inp, period)
    return [
        {
            "id": int(e["id"]),
            "title": e["title"],
            "date": pd.Timestamp(e["held_on"]).date().isoformat(),
            "ahead": pd.Timestamp(e["held_on"]).date() > inp.as_of,
        }
        for e in events[~events["held"]].to_dict("records")
    ]


def team_table(inp: ReportInput, period: Period) -> list[dict[str, str]]:
    """Team members of the period's visits, grouped by organisation (partners first)."""
    visits = _done_visits(inp, period).sort_values(["visit_date", "id"])
    team = inp.frame("team")
    team = team[team["visit_id"].isin(visits["id"])].copy()
    if team.empty:
        return []
    order = {vid: i for i, vid in enumerate(visits["id"])}
    team["_v"] = team["visit_id"].map(order)
    team = team.sort_values(["_v", "position"]).drop_duplicates(["name", "organisation_name"])
    partner_rank = {p: i for i, p in enumerate(inp.partners)}
    first_seen = {o: i for i, o in enumerate(dict.fromkeys(team["organisation_name"]))}
    team["_o"] = team["organisation_name"].map(
        lambda o: (partner_rank.get(o, len(partner_rank)), first_seen[o])
    )
    team = team.sort_values(["_o", "_v", "position"], kind="stable")
    return [
        {"name": r.name, "title": r.title or "", "organisation": r.organisation_name or ""}
        for r in team.itertuples()
    ]


def visited_table(inp: ReportInput, period: Period) -> list[dict[str, Any]]:
    """Organisations visited in the period, in visit order, with visit count and new/revisit."""
    visits = _done_visits(inp, period).sort_values(["visit_date", "id"])
    vo = inp.frame("visit_orgs")
    rows = vo[vo["visit_id"].isin(visits["id"])].copy()
    if rows.empty:
        return []
    rows["_v"] = rows["visit_id"].map({vid: i for i, vid in enumerate(visits["id"])})
    rows = rows.sort_values(["_v", "organisation_id"])
    counts = rows.groupby("organisation_id")["visit_id"].nunique().to_dict()
    # revisited: a done visit before the period (the facts' first visit of the organisation)
    earlier = _facts(inp).revisited(period)
    orgs = _orgs(inp)
    out = []
    for oid in dict.fromkeys(int(o) for o in rows["organisation_id"].tolist()):
        # deleted organisations count nowhere (kpis.py), so the text does not name them
        if oid not in orgs or orgs[oid].get("deleted") in (True, 1):
            continue
        org = orgs[oid]
        out.append(
            {
                "id": oid,
                "name": org["name"],
                "short_name": org["short_name"] or org["name"],
                "kind": org["kind"],
                "district": org["district"] or "",
                "visits": int(counts.get(oid, 0)),
                "revisited": oid in earlier,
            }
        )
    return out


def projects_table(inp: ReportInput, period: Period) -> list[dict[str, Any]]:
    """Cooperation projects (matches) that progressed past proposal in the period."""
    tr = inp.frame("transitions")
    tr = tr[_in(tr["at"], period)]
    if tr.empty:
        return []
    orgs = _orgs(inp)
    last_steps = tr.sort_values(["at"], kind="stable").drop_duplicates("match_id", keep="last")
    first_seen = tr.drop_duplicates("match_id")["match_id"].tolist()
    last_steps = last_steps.set_index("match_id").loc[first_seen].reset_index()
    last_steps = last_steps[last_steps["to_status"].isin(PROGRESS_MATCH_STATUSES)]
    out = []
    for last in last_steps.to_dict("records"):
        out.append(
            {
                "match_id": int(last["match_id"]),
                "need": last["need_title"],
                "company": _short(orgs.get(int(last["organisation_id"]))),
                "candidate": last["candidate"],
                "candidate_org": last["candidate_org"] or "",
                "candidate_title": last["candidate_title"] or "",
                "candidate_kind": last["candidate_kind"],
                "status": last["to_status"],
            }
        )
    return out


def stale_table(inp: ReportInput, limit: int = 10) -> list[dict[str, Any]]:
    """The longest-waiting open needs (rule in kpis.py), as loaded by queries.stale_needs."""
    stale = inp.frame("stale")
    out = []
    for r in stale.head(limit).to_dict("records"):
        moved = pd.Timestamp(r["moved_at"])
        out.append(
            {
                "id": int(r["id"]),
                "title": r["title"],
                "company": r["company"],
                "status": r["status"],
                "moved_on": moved.date().isoformat(),
                "days": int(r["days"]),
            }
        )
    return out


def planned_table(inp: ReportInput) -> list[dict[str, Any]]:
    """Planned visits in the month after the period, with the organisations to visit."""
    nxt = inp.period.following_month()
    visits = inp.frame("visits")
    # a planned visit left over from the period itself still belongs to the plan
    plan = visits[
        (visits["status"] == "planned")
        & (pd.to_datetime(visits["visit_date"]).dt.date >= inp.period.start)
        & (pd.to_datetime(visits["visit_date"]).dt.date <= nxt.end)
    ].sort_values(["visit_date", "id"])
    vo = inp.frame("visit_orgs")
    orgs = _orgs(inp)
    by_visit = _grouped(vo[vo["visit_id"].isin(plan["id"])], "visit_id", "organisation_id")
    out = []
    for v in plan.itertuples():
        names = [_short(orgs[int(o)]) for o in by_visit.get(v.id, []) if int(o) in orgs]
        out.append(
            {
                "id": int(v.id),
                "date": pd.Timestamp(v.visit_date).date().isoformat(),
                "purpose": v.purpose or "",
                "organisations": names,
            }
        )
    return out


# ---------------------------------------------------------------------------- narrative

CN_DIGITS = "零一二三四五六七八九"


def chinese_count(n: int) -> str:
    """Chinese numeral for a small count, as the report writes it (两家, 三家, 十二家)."""
    if n == 2:
        return "两"
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n - 10] if n > 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def centre_label(centre: str, partners: list[str]) -> str:
    """ "联合体-潍坊服务中心" when the consortium is a co-building organisation."""
    if any("联合体" in p for p in partners) and not centre.startswith("联合体"):
        return f"联合体-{centre}"
    return centre


def city_of(region: str, centre: str) -> str:
    """The city the centre serves ("山东省潍坊市" -> "潍坊市")."""
    text = region or ""
    if "省" in text:
        text = text.split("省", 1)[1]
    if text:
        return text
    return centre.replace("服务中心", "市") if centre.endswith("服务中心") else centre


def _team_orgs(team: list[dict[str, str]]) -> list[str]:
    """The organisations the team actually came from, in the team's order."""
    return list(dict.fromkeys(m["organisation"] for m in team if m["organisation"]))


def _who_sent(orgs: list[str], partners: list[str]) -> str:
    """The subject of the team sentence: "三家共建单位分别派出", "两家单位分别派出", "派出"."""
    if len(orgs) <= 1:
        return "派出"
    kind = "共建单位" if all(o in partners for o in orgs) else "单位"
    return f"{chinese_count(len(orgs))}家{kind}分别派出"


def _team_phrase(team: list[dict[str, str]]) -> str:
    groups: dict[str, list[str]] = {}
    for m in team:
        groups.setdefault(m["organisation"], []).append(f"{m['title']}{m['name']}")
    return "，".join(f"{org}{'、'.join(people)}" for org, people in groups.items())


def _visited_phrase(visited: list[dict[str, Any]]) -> str:
    companies = [v for v in visited if v["kind"] == "company"]
    others = [v["short_name"] for v in visited if v["kind"] != "company"]
    by_district: dict[str, list[str]] = {}
    for v in companies:
        by_district.setdefault(v["district"], []).append(v["short_name"])
    parts = [f"{d}{'、'.join(names)}" for d, names in by_district.items()]
    text = "，".join(parts)
    if companies:
        text += "等部分企业"
    if others:
        text += ("和" if companies else "") + "、".join(others)
    return text


def _fields_phrase(by_field: dict[str, int], limit: int = 5) -> str:
    items = list(by_field.items())
    shown = "、".join(f"{k}（{v}项）" for k, v in items[:limit])
    return shown + ("等" if len(items) > limit else "")


def _project_phrase(p: dict[str, Any]) -> str:
    if p["candidate_kind"] == "resource":
        name = p["candidate"]
        if p["candidate_org"] and not name.startswith(p["candidate_org"]):
            name = p["candidate_org"] + name
        return f"{name}项目与{p['company']}的交流合作"
    who = f"{p['candidate_org']}{p['candidate']}{p['candidate_title']}"
    return f"{who}团队与{p['company']}的技术对接"


def _matched_origin(fig: Figures) -> str:
    earlier, total = fig.needs_matched_earlier, fig.needs_matched
    if earlier == 0:
        return "（均为本期征集）"
    if earlier == total:
        return "（均为此前征集）"
    return f"（其中本期征集{total - earlier}项、此前征集{earlier}项）"


def _day(iso: str) -> str:
    return f"{int(iso[5:7])}月{int(iso[8:10])}日"


def _meetings_phrase(meetings: list[dict[str, Any]]) -> str:
    """Planned meetings: "计划于4月20日召开…", and those whose date passed unrecorded."""
    ahead = [m for m in meetings if m["ahead"]]
    unrecorded = [m for m in meetings if not m["ahead"]]
    text = ""
    if ahead:
        text += "计划于" + "、".join(f"{_day(m['date'])}召开{m['title']}" for m in ahead) + "。"
    if unrecorded:
        text += (
            "、".join(f"原定于{_day(m['date'])}召开的{m['title']}" for m in unrecorded)
            + "尚未记录召开情况。"
        )
    return text


def build_narrative(
    inp: ReportInput,
    fig: Figures,
    team: list[dict[str, str]],
    visited: list[dict[str, Any]],
    projects: list[dict[str, Any]],
    meetings: list[dict[str, Any]] | None = None,
) -> str:
    """The 产学融合 paragraph, in the style of the centre's monthly report.

    Figures follow kpis.py: recommendations by their own date (with how many of their needs
    were collected earlier), meetings held apart from meetings planned.
    """
    meetings = meetings or []
    label = centre_label(inp.centre, inp.partners)
    sentences: list[str] = []
    if fig.visits:
        orgs = _team_orgs(team)
        who = _who_sent(orgs, inp.partners)
        team_text = _team_phrase(team)
        group = {0: "", 1: "，组成服务团"}.get(len(orgs), "，联合组成服务团")
        if len(team) == 1:
            group = ""
        sentences.append(
            "为做实“科创中国”服务企业工作，切实解决企业技术瓶颈，开展系列有针对性的企业需求"
            f"征集，更好地服务地方、服务企业，{label}{who}{team_text}{group}走访了"
            f"{_visited_phrase(visited)}。"
            if team
            else f"{label}走访了{_visited_phrase(visited)}。"
        )
    else:
        sentences.append(f"本期{label}未开展企业走访。")
    if fig.needs_collected:
        text = f"共征集企业技术需求{fig.needs_collected}项"
        if fig.needs_by_field:
            text += f"，涉及{_fields_phrase(fig.needs_by_field)}领域"
        sentences.append(text + "。")
    if fig.matches_made or fig.docking_meetings or fig.agreements or fig.resolved:
        parts = []
        if fig.matches_made:
            parts.append(
                f"推荐专家和资源{fig.matches_made}次，涉及企业需求{fig.needs_matched}项"
                + _matched_origin(fig)
            )
        if fig.docking_meetings:
            parts.append(f"举办技术对接会{fig.docking_meetings}场")
        if fig.agreements:
            amount = f"，合同金额{fig.agreement_amount:g}万元" if fig.agreement_amount else ""
            parts.append(f"达成合作协议{fig.agreements}项{amount}")
        if fig.resolved:
            parts.append(f"解决企业需求{fig.resolved}项")
        sentences.append("本期" + "，".join(parts) + "。")
    if meetings:
        sentences.append(_meetings_phrase(meetings))
    if projects:
        phrases = list(dict.fromkeys(_project_phrase(p) for p in projects))
        joined = "、".join(phrases[:-1]) + ("以及" if len(phrases) > 1 else "") + phrases[-1]
        sentences.append(f"此外，{label}正积极推进{joined}。")
    return "".join(sentences)


def build_plan(
    inp: ReportInput,
    planned: list[dict[str, Any]],
    projects: list[dict[str, Any]],
    meetings: list[dict[str, Any]] | None = None,
) -> str:
    """The 产学融合 line of 下月工作计划 (meetings: those planned in the following month)."""
    city = city_of(inp.region, inp.centre)
    text = f"继续走访{city}企业，征集企业需求，探讨服务方向与方式。"
    names = list(dict.fromkeys(n for p in planned for n in p["organisations"]))
    if names:
        dates = sorted({p["date"] for p in planned})
        when = "、".join(f"{int(d[5:7])}月{int(d[8:10])}日" for d in dates)
        text += f"计划于{when}走访{'、'.join(names)}。"
    ahead = [m for m in meetings or [] if m["ahead"]]
    if ahead:
        text += "计划于" + "、".join(f"{_day(m['date'])}召开{m['title']}" for m in ahead) + "。"
    if inp.open_needs:
        text += f"持续跟进{inp.open_needs}项尚未解决的企业需求"
        if projects:
            text += f"，推进{'、'.join(dict.fromkeys(p['company'] for p in projects))}等对接项目"
        text += "。"
    return text


def build_report(inp: ReportInput) -> Report:
    """Build the report of inp.period (and its comparison with the previous period)."""
    period = inp.period
    current = compute_figures(inp, period)
    previous = compute_figures(inp, period.previous())
    team = team_table(inp, period)
    visited = visited_table(inp, period)
    projects = projects_table(inp, period)
    planned = planned_table(inp)
    meetings = meetings_table(inp, period)
    next_meetings = meetings_table(inp, period.following_month())
    return Report(
        centre=inp.centre,
        period=period,
        current=current,
        previous=previous,
        team=team,
        visited=visited,
        projects=projects,
        stale=stale_table(inp),
        planned=planned,
        narrative=build_narrative(inp, current, team, visited, projects, meetings),
        next_month_plan=build_plan(inp, planned, projects, next_meetings),
        open_needs=inp.open_needs,
        meetings=meetings,
        stale_total=inp.stale_total,
    )


def raw_rows(inp: ReportInput) -> dict[str, list[dict[str, Any]]]:
    """The period's raw rows (visits, needs, match steps) for the spreadsheet."""
    period = inp.period
    orgs = _orgs(inp)

    def org_name(oid: Any) -> str:
        org = orgs.get(int(oid))
        return str(org["name"]) if org else ""

    vo = inp.frame("visit_orgs")
    team = inp.frame("team")
    visit_orgs = _grouped(vo, "visit_id", "organisation_id")
    visit_team = _grouped(team, "visit_id", "name")
    visits = []
    for v in _done_visits(inp, period).sort_values(["visit_date", "id"]).itertuples():
        visits.append(
            {
                "走访编号": int(v.id),
                "日期": str(pd.Timestamp(v.visit_date).date()),
                "目的": v.purpose or "",
                "走访单位": "、".join(org_name(o) for o in visit_orgs.get(v.id, [])),
                "服务团": "、".join(str(n) for n in visit_team.get(v.id, [])),
            }
        )
    need_fields = _grouped(inp.frame("need_fields"), "need_id", "field")
    needs = inp.frame("needs")
    need_rows = []
    for n in (
        needs[_in(needs["collected_on"], period)].sort_values(["collected_on", "id"]).itertuples()
    ):
        need_rows.append(
            {
                "需求编号": int(n.id),
                "征集日期": str(pd.Timestamp(n.collected_on).date()),
                "企业": org_name(n.organisation_id),
                "需求": n.title,
                "领域": "、".join(str(f) for f in need_fields.get(n.id, [])),
                "类型": n.need_type,
                "紧急程度": n.urgency,
                "状态": n.status,
            }
        )
    tr = inp.frame("transitions")
    steps = []
    for t in tr[_in(tr["at"], period)].itertuples():
        steps.append(
            {
                "匹配编号": int(t.match_id),
                "时间": str(pd.Timestamp(t.at).date()),
                "进展": t.to_status,
                "需求": t.need_title,
                "企业": org_name(t.organisation_id),
                "专家/资源": t.candidate,
                "单位": t.candidate_org or "",
            }
        )
    return {"原始-走访": visits, "原始-需求": need_rows, "原始-匹配进展": steps}
