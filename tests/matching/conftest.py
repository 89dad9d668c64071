"""Fixtures for the matching tests: a small pool of experts and resources around `world`."""

from __future__ import annotations

from typing import Any

import pytest

from needs_tracker.experts.models import Expert
from needs_tracker.extensions import db
from needs_tracker.taxonomy.models import TechField


@pytest.fixture
def pool(world) -> dict[str, Any]:
    """world plus experts and resources in two fields."""
    inspection = world["field"]
    drive = TechField(name="传动与控制", position=2)
    db.session.add(drive)
    experts = {
        "vision": Expert(
            name="于晓东",
            organisation="潍坊学院",
            region="潍坊",
            expertise="机器视觉测量、焊缝缺陷视觉检测、图像处理",
            fields=[inspection],
        ),
        "gear": Expert(
            name="吕冬梅",
            organisation="重庆大学",
            region="重庆",
            expertise="减速器齿轮设计、传动系统可靠性",
            fields=[drive],
        ),
    }
    db.session.add_all(experts.values())
    db.session.commit()
    return {**world, "drive": drive, **experts}
