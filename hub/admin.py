from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Records written only by services (money, audit, outbox): viewable, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows of a record's history, shown oldest first under it; written only by services."""

    extra = 0
    can_delete = False
    ordering = ["id"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
