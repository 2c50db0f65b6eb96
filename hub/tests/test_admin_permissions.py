"""Every admin page the project adds is behind a model permission, and no filter answers 500.

The lists come from the admin site itself, so a view or action added later is covered without
touching this file."""

import pytest
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from reconciliation.models import ReconciliationRun

pytestmark = pytest.mark.django_db
PROJECT_APPS = {"hub", "wallet", "webhooks", "providers", "reconciliation"}
DJANGO_VIEWS = {"changelist", "add", "history", "delete", "change", "autocomplete"}


def project_admins() -> list[tuple[Any, admin.ModelAdmin]]:
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in PROJECT_APPS]


def custom_views() -> list[tuple[Any, URLPattern]]:
    """The admin URLs the project adds beside Django's own (CSV downloads, replay-matching, …)."""
    found = []
    for model, model_admin in project_admins():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None) or ""
            if isinstance(pattern, URLPattern) and name and name.removeprefix(prefix) not in DJANGO_VIEWS:
                found.append((model, pattern))
    return found


def staff(*permissions: str) -> Client:
    user = User.objects.create_user(username=f"staff-{len(permissions)}-{User.objects.count()}", password="x",
                                    is_staff=True)
    for codename in permissions:
        app_label, code = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=code))
    client = Client()
    client.force_login(user)
    return client


def url_of(pattern: URLPattern, run: ReconciliationRun) -> str:
    args = [run.id] if pattern.pattern.converters else []
    return reverse(f"admin:{pattern.name}", args=args)


@pytest.fixture
def run(tmp_path) -> ReconciliationRun:
    report = tmp_path / "reconciliation.csv"
    report.write_text("kind,ref_id\nSTATUS_MISMATCH,secret-ref\n")
    return ReconciliationRun.objects.create(window_start=timezone.now(), window_end=timezone.now(), status="COMPLETED",
                                            csv_path=str(report))


def test_the_project_adds_custom_admin_views_and_this_test_sees_them():
    names = {pattern.name for _, pattern in custom_views()}
    assert {"reconciliation_run_csv", "webhooks_outboxmessage_replay_matching"} <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_custom_admin_view_refuses_a_staff_user_without_the_models_permission(run, method):
    nobody = staff()
    for model, pattern in custom_views():
        answer = getattr(nobody, method)(url_of(pattern, run), {"confirm": "yes"} if method == "post" else None)
        assert answer.status_code == 403, (pattern.name, answer.status_code)


def test_the_csv_download_needs_the_view_permission_on_runs(run):
    allowed = staff("reconciliation.view_reconciliationrun")

    answer = allowed.get(reverse("admin:reconciliation_run_csv", args=[run.id]))

    assert answer.status_code == 200 and b"secret-ref" in b"".join(answer.streaming_content)
    assert staff("wallet.view_wallettransaction").get(
        reverse("admin:reconciliation_run_csv", args=[run.id])).status_code == 403


def test_replay_matching_needs_the_replay_permission_too():
    url = reverse("admin:webhooks_outboxmessage_replay_matching")

    assert staff("webhooks.view_outboxmessage").get(url).status_code == 403
    assert staff("webhooks.view_outboxmessage", "webhooks.replay_outboxmessage").get(url).status_code == 200


def test_every_custom_action_declares_the_permission_it_needs():
    for model, model_admin in project_admins():
        for action in model_admin.actions or []:
            function = getattr(model_admin, action) if isinstance(action, str) else action
            assert getattr(function, "allowed_permissions", None), f"{model.__name__}.{action} needs permissions=[...]"


def malformed_filters(model_admin: admin.ModelAdmin) -> list[dict[str, str]]:
    names: list[Any] = [item if isinstance(item, str) else getattr(item, "parameter_name", None)
                        for item in model_admin.list_filter]
    queries: list[dict[str, str]] = [{"o": "zz.-x"}, {"p": "-1"}, {"q": "\x00"}, {"id__exact": "abc"},
                                     {"nonexistent__exact": "1"}, {"e": "1"}]
    for name in names:
        if isinstance(name, str):
            queries += [{f"{name}__exact": "abc"}, {f"{name}__id__exact": "abc"}, {f"{name}__gte": "not-a-date"},
                        {f"{name}__isnull": "maybe"}, {name: "\x00"}]
    return queries


def test_no_changelist_or_replay_answers_500_to_a_filter_it_cannot_apply(admin_client):
    for model, model_admin in project_admins():
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for query in malformed_filters(model_admin):
            assert admin_client.get(changelist, query).status_code in {200, 302, 400}, (changelist, query)
    replay = reverse("admin:webhooks_outboxmessage_replay_matching")
    for query in malformed_filters(admin.site._registry[next(m for m, _ in project_admins()
                                                             if m.__name__ == "OutboxMessage")]):
        for method in (admin_client.get, admin_client.post):
            path = f"{replay}?{'&'.join(f'{k}={v}' for k, v in query.items())}"
            assert method(path, {"confirm": "yes"} if method == admin_client.post else None).status_code in {
                200, 302, 400}, query
