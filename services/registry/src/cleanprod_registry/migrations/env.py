from cleanprod_kit.migrations import run_env
from cleanprod_registry.models import service_metadata

run_env(service_metadata())
