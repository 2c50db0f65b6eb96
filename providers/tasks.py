"""The providers' periodic tasks (beat)."""

from celery import shared_task

from providers.availability import availability_restore, store_status_reopen
from providers.menus import menu_syncs_time_out


@shared_task
def time_out_menu_syncs() -> None:
    menu_syncs_time_out()


@shared_task
def restore_availability_and_reopen() -> None:
    """Items whose unavailability ended, and stores whose pause or closing ended: told to every provider."""
    availability_restore()
    store_status_reopen()
