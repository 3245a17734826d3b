#!/bin/sh
# The container's command: `migrate` (the part's own database to head, then exit: the Kubernetes migration Jobs),
# `wait-for-migrations` (until the database is at this version's head, changing nothing: the Deployments' init
# step), `serve` (port 8000 only: the Deployments, where migrations already ran), or nothing (docker-compose:
# migrate, then serve). The gateway has no database.
set -e
MODE=${1:-migrate-and-serve}
migrate() {  # $1: nothing, or --wait
  case "$SERVICE" in
    registry)     python -m cleanprod_kit.migrate $1 cleanprod_registry REGISTRY_ ;;
    applications) python -m cleanprod_kit.migrate $1 cleanprod_applications APPLICATIONS_ ;;
    verification) python -m cleanprod_kit.migrate $1 cleanprod_verification VERIFICATION_ ;;
    portal)       python -m cleanprod_kit.migrate $1 cleanprod_portal PORTAL_ ;;
    gateway) ;;
    *) echo "unknown SERVICE '$SERVICE'" >&2; exit 2 ;;
  esac
}
case "$MODE" in
  migrate) migrate; exit 0 ;;
  wait-for-migrations) migrate --wait; exit 0 ;;
  migrate-and-serve) migrate ;;
  serve) ;;
  *) echo "usage: entrypoint.sh [migrate|wait-for-migrations|serve]" >&2; exit 2 ;;
esac
if [ "$SERVICE" = "gateway" ]; then APP=cleanprod_gateway.main:create_app; else APP=cleanprod_${SERVICE}.main:create_app; fi
# The portal: uvicorn's httptools protocol with a response's head and body in one write (cleanprod_portal/server.py).
HTTP=httptools
if [ "$SERVICE" = "portal" ]; then HTTP=cleanprod_portal.server:HttpToolsProtocol; fi
# SIGTERM: stop accepting, give requests in flight up to 30 s (the pods' grace period is 45 s, after a 5 s preStop).
exec uvicorn "$APP" --factory --host 0.0.0.0 --port 8000 --loop uvloop --http "$HTTP" --no-access-log \
     --proxy-headers --forwarded-allow-ips='*' --timeout-graceful-shutdown 30
