"""The alert rules ship with the code: one for every stuck state SPEC §9 names, each pointing at a RUNBOOK
section that exists, each over a metric the hub exports. (promtool checks and unit-tests them in .ci/run.)"""

import json
import re

import yaml

from hub.testing import BASE_DIR

RULES = yaml.safe_load((BASE_DIR / "deploy/prometheus/alerts.yml").read_text())
ALERTS = {rule["alert"]: rule for group in RULES["groups"] for rule in group["rules"]}
RUNBOOK = (BASE_DIR / "docs/RUNBOOK.md").read_text()
DASHBOARD = json.loads((BASE_DIR / "deploy/grafana/integration-hub.json").read_text())


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def exported_metric_names() -> set[str]:
    names = set()
    for path in BASE_DIR.glob("*/metrics.py"):
        names |= set(re.findall(r'"(hub_[a-z_]+)"', path.read_text()))
    return names


def test_every_stuck_state_has_an_alert():
    assert {"DeadLettersGrowing", "OutboxOldestPendingTooOld", "CircuitBreakerOpen", "WalletTransactionsStuckPending",
            "IntakeErrors", "IntakeUnauthorizedBurst", "OrdersNearDeadline", "ReconciliationMismatches",
            "ReconciliationIncomplete", "HighWebhookErrorRate", "RetryQueueBacklog", "OutboxNoDispatcher"} <= set(ALERTS)


def test_every_alert_links_to_a_runbook_section_that_exists():
    anchors = {anchor(line[3:]) for line in RUNBOOK.splitlines() if line.startswith("## ")}
    for name, rule in ALERTS.items():
        path, _, section = rule["annotations"]["runbook_url"].partition("#")
        assert path == "docs/RUNBOOK.md" and section in anchors, name


def test_alerts_and_dashboard_use_only_metrics_the_hub_exports():
    exported = exported_metric_names()
    used = {name for rule in ALERTS.values() for name in re.findall(r"\bhub_[a-z_]+", rule["expr"])}
    panels = [panel for panel in DASHBOARD["panels"] if panel.get("type") != "row"]
    used |= {name for panel in panels for target in panel["targets"] for name in re.findall(r"\bhub_[a-z_]+", target["expr"])}
    histogram_parts = {f"{name}_{suffix}" for name in exported for suffix in ("bucket", "sum", "count", "total")}
    assert used <= exported | histogram_parts, used - exported - histogram_parts
