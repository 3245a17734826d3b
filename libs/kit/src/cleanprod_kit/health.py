"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", include_in_schema=False)
async def healthz(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.settings.service_name}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    try:
        await request.app.state.db.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})
