"""Technical field taxonomy (技术领域)."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from needs_tracker.common.models import TimestampMixin
from needs_tracker.extensions import db

DEFAULT_FIELDS: list[tuple[str, str]] = [
    ("工业互联网", "设备联网、数据采集、工业APP、边缘计算"),
    ("智能检测", "机器视觉、无损检测、在线测量、质量检测"),
    ("传动与控制", "变速器、减速器、液力传动、伺服与运动控制"),
    ("热管理", "换热器、冷却系统、电池热管理、热仿真"),
    ("新材料", "磁性材料、复合材料、金属材料、涂层"),
    ("工业软件", "CAD/CAE/MES/PLM、仿真、数字孪生"),
    ("机器人与自动化", "工业机器人、自动化产线、AGV"),
    ("动力与能源", "内燃机、燃料电池、氢能、电驱动"),
    ("精密制造与加工", "精密加工、增材制造、焊接、铸锻"),
    ("节能环保", "节能改造、排放控制、废弃物利用"),
    ("电子与传感", "传感器、嵌入式、电力电子"),
    ("人工智能与大数据", "预测性维护、质量大数据、算法"),
    ("汽车与零部件", "整车、底盘、车身、汽车电子"),
    ("人才培养", "工程师培训、学习工厂、产教融合"),
]


class TechField(TimestampMixin, db.Model):
    """One technical field; admins maintain the list."""

    __tablename__ = "tech_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<TechField {self.name}>"
