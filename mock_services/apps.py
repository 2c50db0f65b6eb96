from django.apps import AppConfig


class MockServicesConfig(AppConfig):
    name = "mock_services"
