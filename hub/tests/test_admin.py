"""The admin login is locked after repeated failures (django-axes)."""

import pytest



@pytest.mark.django_db
def test_admin_login_is_locked_after_repeated_failures(client, django_user_model):
    django_user_model.objects.create_superuser("ops", password="the-right-password-123")
    form = {"username": "ops", "next": "/admin/"}

    failures = [client.post("/admin/login/", {**form, "password": f"wrong-{n}"}).status_code for n in range(5)]
    locked = client.post("/admin/login/", {**form, "password": "the-right-password-123"})

    assert failures == [200, 200, 200, 200, 429]  # the fifth failure locks (ADMIN_LOGIN_FAILURE_LIMIT)
    assert locked.status_code == 429  # even the right password, until the cool-off ends
    assert "_auth_user_id" not in client.session
