"""Centre form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from needs_tracker.common.forms import strip_filter


class CentreForm(FlaskForm):
    """Create or edit a centre."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=120)], filters=[strip_filter]
    )
    region = StringField(
        _l("Region"), validators=[Optional(), Length(max=120)], filters=[strip_filter]
    )
    partners = TextAreaField(
        _l("Co-building organisations (one per line)"),
        validators=[Optional(), Length(max=4000)],
    )
    # The monthly Word report's heading and numbering (reports.export.ReportStyle); blank
    # fields keep the default shown under each.
    report_title = StringField(
        _l("Report title"),
        validators=[Optional(), Length(max=200)],
        filters=[strip_filter],
        description=_l("Default: 进展情况月报"),
    )
    report_issuer = StringField(
        _l("Issued by"),
        validators=[Optional(), Length(max=200)],
        filters=[strip_filter],
        description=_l("Default: the centre with its co-building organisations"),
    )
    report_progress_heading = StringField(
        _l("Progress section"),
        validators=[Optional(), Length(max=100)],
        filters=[strip_filter],
        description="一、当月总体进展情况",
    )
    report_progress_topic = StringField(
        _l("Progress subsection"),
        validators=[Optional(), Length(max=100)],
        filters=[strip_filter],
        description="产学融合",
    )
    report_stats_heading = StringField(
        _l("Statistics section"),
        validators=[Optional(), Length(max=100)],
        filters=[strip_filter],
        description="二、数据统计",
    )
    report_plan_heading = StringField(
        _l("Next month's plan section"),
        validators=[Optional(), Length(max=100)],
        filters=[strip_filter],
        description="三、下月工作计划",
    )
    report_plan_topic = StringField(
        _l("Next month's plan subsection"),
        validators=[Optional(), Length(max=100)],
        filters=[strip_filter],
        description="产学融合",
    )
    submit = SubmitField(_l("Save"))

    STYLE_PREFIX = "report_"

    def style_fields(self) -> list:
        """The report-style fields, in form order."""
        return [f for f in self if f.name.startswith(self.STYLE_PREFIX)]

    def report_style(self) -> dict[str, str]:
        """The report style to store on the centre (blank fields left out)."""
        return {
            f.name.removeprefix(self.STYLE_PREFIX): f.data for f in self.style_fields() if f.data
        }

    def fill_report_style(self, style: dict | None) -> None:
        """Show a centre's stored report style in the fields."""
        for f in self.style_fields():
            f.data = (style or {}).get(f.name.removeprefix(self.STYLE_PREFIX), "")
