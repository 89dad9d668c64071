"""Organisations: credit code validation, the company page over time."""

from sqlalchemy import func, select

from needs_tracker.extensions import db
from needs_tracker.organisations.models import Organisation


def _form(**extra):
    data = {
        "name": "潍坊雅士股份有限公司",
        "short_name": "雅士股份",
        "kind": "company",
        "district": "高新区",
        "industry": "精密零部件",
        "size": "medium",
    }
    data.update(extra)
    return data


def _count():
    return db.session.scalar(select(func.count(Organisation.id)))


def test_create_with_valid_credit_code(client, auth, world):
    auth.login("member")
    resp = client.post("/organisations/new", data=_form(credit_code="91350100m000100y43"))
    assert resp.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.short_name == "雅士股份"))
    assert org.credit_code == "91350100M000100Y43"
    assert org.centre_id == world["a"].id


def test_invalid_credit_codes_get_specific_messages(client, auth, world):
    auth.login("member")
    before = _count()
    for code, message in [
        ("91350100M000100Y44", "校验位（最后一位）错误"),
        ("9135010", "统一社会信用代码应为 18 位"),
        ("91350100M00010OY43", "不使用 I、O、Z、S、V"),
    ]:
        page = client.post("/organisations/new", data=_form(credit_code=code)).get_data(
            as_text=True
        )
        assert message in page, code
    assert _count() == before


def test_bad_organisation_input(client, auth, world):
    auth.login("member")
    before = _count()
    for extra, marker in [
        ({"name": ""}, "name-error"),
        ({"name": "名" * 201}, "name-error"),
        ({"contact_email": "not-an-email"}, "contact_email-error"),
        ({"kind": "spaceship"}, "kind-error"),
        ({"size": "huge"}, "size-error"),
    ]:
        page = client.post("/organisations/new", data=_form(**extra)).get_data(as_text=True)
        assert f'id="{marker}"' in page, extra
    assert _count() == before


def test_company_page_shows_visits_needs_and_status_over_time(client, auth, world):
    auth.login("coordinator")
    need = world["need_a"]
    client.post(
        f"/needs/{need.id}/status", data={"to_status": "assessing", "version": need.version}
    )
    page = client.get(f"/organisations/{world['org_a'].id}").get_data(as_text=True)
    assert "焊缝缺陷自动检测" in page
    assert f"/visits/{world['visit_a'].id}" in page
    assert "已征集 → " in page
    assert "评估中" in page


def test_edit_is_refused_when_stale(client, auth, world):
    auth.login("member")
    org = world["org_a"]
    stale = org.version
    org.industry = "检验检测"
    db.session.commit()
    page = client.post(
        f"/organisations/{org.id}/edit", data=_form(name=org.name, version=stale)
    ).get_data(as_text=True)
    assert "其他人已保存了这条记录" in page
    db.session.refresh(org)
    assert org.short_name == "天恒检测"


def test_look_alike_company_is_flagged_before_it_is_created(client, auth, world):
    auth.login("member")
    client.post("/organisations/new", data=_form(name="潍柴动力股份有限公司", short_name=""))
    before = _count()
    # Same company once region prefix and legal form are ignored: warned, not saved.
    page = client.post(
        "/organisations/new", data=_form(name="潍坊潍柴动力有限公司", short_name="")
    ).get_data(as_text=True)
    assert "潍柴动力股份有限公司" in page
    assert 'name="confirm_duplicate"' in page
    assert _count() == before
    # The user says it is a different company: saved.
    resp = client.post(
        "/organisations/new",
        data=_form(name="潍坊潍柴动力有限公司", short_name="", confirm_duplicate="1"),
    )
    assert resp.status_code == 302
    assert _count() == before + 1
