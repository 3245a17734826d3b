"""cleanprod API gateway: the only public entry point (token checks, coarse role rules, rate limits,
request ids, merged OpenAPI) in front of the registry, applications and verification services."""

from .gateway import Gateway
from .settings import GatewaySettings

__all__ = ["Gateway", "GatewaySettings"]
