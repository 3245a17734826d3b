#!/bin/sh
# Migrate the part's own database (services and the portal), then serve on port 8000.
set -e
case "$SERVICE" in
  registry)     python -m cleanprod_kit.migrate cleanprod_registry REGISTRY_ ;;
  applications) python -m cleanprod_kit.migrate cleanprod_applications APPLICATIONS_ ;;
  verification) python -m cleanprod_kit.migrate cleanprod_verification VERIFICATION_ ;;
  portal)       python -m cleanprod_kit.migrate cleanprod_portal PORTAL_ ;;
  gateway) ;;
  *) echo "unknown SERVICE '$SERVICE'" >&2; exit 2 ;;
esac
if [ "$SERVICE" = "gateway" ]; then APP=cleanprod_gateway.main:create_app; else APP=cleanprod_${SERVICE}.main:create_app; fi
exec uvicorn "$APP" --factory --host 0.0.0.0 --port 8000 --loop uvloop --http httptools --no-access-log \
     --proxy-headers --forwarded-allow-ips='*'
