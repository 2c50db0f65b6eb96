import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Make sure an admin user exists. Uses DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD "
        "when set; otherwise creates 'admin' with a random password printed once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--admin-url", default="http://127.0.0.1:8000/admin/")

    @transaction.atomic
    def handle(self, *args, admin_url: str, **options) -> None:
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        users = get_user_model().objects
        user = users.select_for_update().filter(username=username).first()

        if user and not password:
            self.stdout.write(
                f"Admin: {admin_url} user '{username}' (existing; password unchanged, "
                f"reset with: python manage.py changepassword {username})"
            )
            return
        shown = password is None
        password = password or secrets.token_urlsafe(12)
        if user is None:
            user = users.create_superuser(username=username, email="", password=password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        login = f"password '{password}' (shown once)" if shown else "password from DJANGO_SUPERUSER_PASSWORD"
        self.stdout.write(self.style.SUCCESS(f"Admin: {admin_url} user '{username}' {login}"))
