"""The provider registry: one adapter per provider, one line each (docs/ADDING_A_PROVIDER.md)."""

from providers.adapters.base import ProviderAdapter
from providers.adapters.careem import CareemAdapter
from providers.adapters.deliveroo import DeliverooAdapter
from providers.adapters.talabat import TalabatAdapter
from providers.adapters.ubereats import UberEatsAdapter

ADAPTERS: dict[str, ProviderAdapter] = {adapter.name: adapter for adapter in (
    CareemAdapter(),
    TalabatAdapter(),
    DeliverooAdapter(),
    UberEatsAdapter(),
)}
