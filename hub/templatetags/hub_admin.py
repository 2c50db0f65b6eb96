"""The admin index's attention panel and charts (`{% attention_panel %}`), read from `hub.attention`."""

from itertools import groupby

from django import template

from hub.attention import attention_charts, attention_figures, hours_until
from hub.charts import stacked_bars_svg

register = template.Library()


@register.inclusion_tag("admin/attention_panel.html")
def attention_panel() -> dict:
    figures = attention_figures()
    hours = hours_until()
    return {
        "sections": [(section, list(items)) for section, items in groupby(figures, key=lambda f: f.section)],
        "alarms": sum(1 for figure in figures if figure.alarm),
        "charts": [(chart.title, stacked_bars_svg(chart, hours)) for chart in attention_charts()],
    }
