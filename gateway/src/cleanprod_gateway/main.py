"""Entry point: `uvicorn cleanprod_gateway.main:create_app --factory --loop uvloop --http httptools`."""

from __future__ import annotations

from cleanprod_kit.logging import configure_logging

from .gateway import Gateway
from .settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> Gateway:
    settings = settings or GatewaySettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    return Gateway(settings)
