"""The providers' periodic tasks (beat)."""

from celery import shared_task

from providers.menus import menu_syncs_time_out


@shared_task
def time_out_menu_syncs() -> None:
    menu_syncs_time_out()
