"""Provider authentication: hmac (default), api_key, jwt. Constant-time; one yes/no, no reasons."""

import hmac
import ipaddress
import time
from collections.abc import Sequence

import jwt

from hub.signing import hex_hmac, hex_hmac_valid, secret_list
from providers.adapters.base import ProviderAdapter


def signature_valid(*, adapter: ProviderAdapter, secret: str, headers, body: bytes) -> bool:
    """Lowercase hex HMAC-SHA256 of what the adapter says is signed, in its signature header."""
    return hex_hmac_valid(given=headers.get(adapter.signature_header_name(), ""), secret=secret,
                          message=adapter.signed_message(headers, body))


def signature_headers(*, adapter: ProviderAdapter, secret: str, body: bytes) -> dict[str, str]:
    """What a sender adds to sign `body` as the provider does (the inverse of `signature_valid`)."""
    headers = adapter.signing_headers()
    return {**headers, adapter.signature_header_name(): hex_hmac(secret=secret, message=adapter.signed_message(headers, body))}


def credentials_headers(*, provider: str, mode: str, secret: str, body: bytes) -> dict[str, str]:
    """What a sender adds to be authenticated as the provider in `mode` (send_provider_webhook, the fakes'
    asynchronous results): the inverse of `authenticated`, with the first of a rotation's secrets."""
    secret = next(iter(secret_list(secret)), "")
    if mode == "api_key":
        return {f"x-{provider}-api-key": secret}
    if mode == "jwt":
        token = jwt.encode({"service": "middleware", "exp": int(time.time()) + 300}, secret, algorithm="HS512")
        return {"Authorization": f"Bearer {token}"}
    from providers.adapters import ADAPTERS

    return signature_headers(adapter=ADAPTERS[provider], secret=secret, body=body)


def api_key_valid(*, provider: str, secret: str, headers) -> bool:
    return hmac.compare_digest(headers.get(f"x-{provider}-api-key", "").encode(), secret.encode())


def jwt_valid(*, secret: str, headers) -> bool:
    """Delivery Hero middleware: Bearer HS512 with service "middleware"; exp required and honoured."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        claims = jwt.decode(token, secret, algorithms=["HS512"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return False
    return claims.get("service") == "middleware"


def authenticated(*, mode: str, adapter: ProviderAdapter, secret: str, headers, body: bytes) -> bool:
    """`secret` may hold several comma-separated secrets (a rotation: the current and the next): any one
    authenticates, and every one is tried, so the time taken says nothing of which matched."""
    results = [_authenticated_with(mode=mode, adapter=adapter, secret=one, headers=headers, body=body)
               for one in secret_list(secret)]
    return any(results)


def _authenticated_with(*, mode: str, adapter: ProviderAdapter, secret: str, headers, body: bytes) -> bool:
    if mode == "api_key":
        return api_key_valid(provider=adapter.name, secret=secret, headers=headers)
    if mode == "jwt":
        return jwt_valid(secret=secret, headers=headers)
    return signature_valid(adapter=adapter, secret=secret, headers=headers, body=body)


def client_ip(*, remote_addr: str, forwarded_for: str, trusted_proxies: list[str]) -> str:
    """The caller's address: X-Forwarded-For is believed only hop by hop from trusted proxies.
    "" when that is not an IP address (an allowlist then refuses it)."""
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            return any(ipaddress.ip_address(address) in network for network in networks)
        except ValueError:
            return False

    address = remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    while trusted(address) and hops:
        address = hops.pop()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # a proxy passed on garbage ("not-an-ip"): the caller is unknown
        return ""


def ip_allowed(address: str, allowlist: Sequence[str]) -> bool:
    if not allowlist:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(cidr, strict=False) for cidr in allowlist)
