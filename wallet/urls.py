from django.urls import re_path

from wallet.apis import BalanceApi, CreditApi, DebitApi, RollbackApi, RoundApi, TransactionApi

urlpatterns = [
    re_path(r"^debit/?$", DebitApi.as_view(), name="wallet-debit"),
    re_path(r"^credit/?$", CreditApi.as_view(), name="wallet-credit"),
    re_path(r"^rollback/?$", RollbackApi.as_view(), name="wallet-rollback"),
    re_path(r"^balance/?$", BalanceApi.as_view(), name="wallet-balance"),
    re_path(r"^rounds/(?P<round_id>[^/]{1,64})/?$", RoundApi.as_view(), name="wallet-round"),
    re_path(r"^transactions/(?P<ref_id>[^/]{1,64})/?$", TransactionApi.as_view(), name="wallet-transaction"),
]
