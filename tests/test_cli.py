"""The CLI contract: centre create, user create, demo seed."""

from sqlalchemy import func, select

from needs_tracker.auth.models import User
from needs_tracker.centres.models import Centre
from needs_tracker.experts.models import Expert, Resource
from needs_tracker.extensions import db
from needs_tracker.needs.models import Need
from needs_tracker.organisations.models import Organisation
from needs_tracker.visits.models import Visit


def test_centre_create(runner):
    result = runner.invoke(
        args=[
            "centre",
            "create",
            "济南服务中心",
            "--region",
            "山东省济南市",
            "--partner",
            "济南市科协",
        ]
    )
    assert result.exit_code == 0, result.output
    centre = db.session.scalar(select(Centre).where(Centre.name == "济南服务中心"))
    assert centre.region == "山东省济南市"
    assert [p.name for p in centre.partners] == ["济南市科协"]
    again = runner.invoke(args=["centre", "create", "济南服务中心"])
    assert again.exit_code != 0
    assert "exists" in again.output


def test_user_create_with_and_without_password(runner):
    runner.invoke(args=["centre", "create", "济南服务中心"])
    result = runner.invoke(
        args=[
            "user",
            "create",
            "jn_coord",
            "--role",
            "coordinator",
            "--centre",
            "济南服务中心",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "jn_coord"))
    assert user.role == "coordinator"
    assert user.check_password("long enough pw")
    prompted = runner.invoke(
        args=["user", "create", "jn_member", "--role", "member", "--centre", "济南服务中心"],
        input="another long pw\nanother long pw\n",
    )
    assert prompted.exit_code == 0, prompted.output
    bad = runner.invoke(
        args=[
            "user",
            "create",
            "x",
            "--role",
            "member",
            "--centre",
            "没有这个中心",
            "--password",
            "long enough pw",
        ]
    )
    assert bad.exit_code != 0
    assert "No centre" in bad.output


def _counts():
    return tuple(
        db.session.scalar(select(func.count(m.id)))
        for m in (User, Organisation, Visit, Need, Expert, Resource)
    )


def test_demo_seed_is_idempotent_and_matches_the_report(runner):
    result = runner.invoke(args=["demo", "seed", "--password", "demo passphrase"])
    assert result.exit_code == 0, result.output
    first = _counts()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert _counts() == first
    centre = db.session.scalar(select(Centre).where(Centre.name == "潍坊服务中心"))
    assert [p.name for p in centre.partners] == [
        "中国科协智能制造学会联合体",
        "潍坊市科协",
        "潍坊市高新区科技局",
    ]
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"member", "coordinator", "leader", "sysadmin"}
    q1 = db.session.scalar(select(Visit).where(Visit.status == "done"))
    assert [(m.name, m.organisation_name) for m in q1.team] == [
        ("胡志强", "中国科协智能制造学会联合体"),
        ("孙晓非", "潍坊市科协"),
        ("刘军", "潍坊市高新区科技局"),
    ]
    assert [o.short_name for o in q1.organisations] == [
        "华特磁电",
        "天恒检测",
        "中科普锐检测",
        "潍柴集团",
        "盛瑞传动",
        "银轮股份",
        "雅士股份",
        "福田汽车",
        "潍坊学院",
    ]
    assert db.session.scalar(select(func.count(Need.id)).where(Need.visit_id == q1.id)) >= 9
    assert (
        db.session.scalar(select(Resource).where(Resource.name.like("同济大学%学习工厂")))
        is not None
    )
    assert first[4] + first[5] >= 24
    planned = db.session.scalar(select(Visit).where(Visit.status == "planned"))
    assert planned.visit_date.isoformat() == "2021-04-15"
    user = db.session.scalar(select(User).where(User.username == "demo_member"))
    assert user.check_password("demo passphrase")


def test_demo_seed_creates_the_instance_folder_for_its_logins(app, runner, tmp_path, monkeypatch):
    """README's deployment: DATABASE_URL and SECRET_KEY set, so nothing made instance/ yet."""
    instance = tmp_path / "instance"
    monkeypatch.setattr(app, "instance_path", str(instance))
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    logins = instance / "demo_logins.txt"
    users = {line.split("\t")[0] for line in logins.read_text(encoding="utf-8").splitlines()}
    assert {"demo_leader", "demo_admin"} <= users
    assert logins.stat().st_mode & 0o077 == 0
