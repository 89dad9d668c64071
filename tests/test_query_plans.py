"""The list and history queries use indexes that match their filters and sort.

At 300,000 needs and 380,000 audit entries a full scan costs about a second a page; these
plans are what benchmarks/scale.py prints at that size, checked here on a small database.
"""

from __future__ import annotations

from sqlalchemy import select, text

from needs_tracker.audit.services import history_stmt
from needs_tracker.extensions import db


def _sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _plan(stmt) -> str:
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if _sqlite():
        return "\n".join(r[-1] for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    # PostgreSQL's choice depends on statistics, and a test table is tiny: rule out the full
    # scan and the sort, so that the plan shows whether an index gives the rows and their order.
    for setting in ("enable_seqscan", "enable_sort"):
        db.session.execute(text(f"SET LOCAL {setting} = off"))
    return "\n".join(r[0] for r in db.session.execute(text("EXPLAIN " + sql)))


def test_record_history_is_two_index_lookups(app):
    plan = _plan(history_stmt("needs", 1).limit(5))
    assert "ix_audit_entries_record" in plan, plan
    assert "ix_audit_entries_parent" in plan, plan
    if _sqlite():
        assert "SCAN audit_entries" not in plan, plan
        assert "MULTI-INDEX OR" not in plan  # an OR the planner may trade for a scan by id
        assert "ix_audit_entries_record (table_name=? AND record_id=?)" in plan
        assert "ix_audit_entries_parent (parent_table=? AND parent_id=?)" in plan


def test_centre_need_list_reads_the_centre_and_date_index(app):
    from needs_tracker.needs.models import Need

    stmt = (
        select(Need.id)
        .where(Need.centre_id.in_([1]), Need.deleted_at.is_(None))
        .order_by(Need.collected_on.desc(), Need.id.desc())
        .limit(20)
    )
    plan = _plan(stmt)
    assert "ix_needs_centre_collected" in plan, plan
    if _sqlite():
        assert "SCAN needs" not in plan
