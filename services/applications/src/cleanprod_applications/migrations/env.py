from cleanprod_applications.models import service_metadata
from cleanprod_kit.migrations import run_env

run_env(service_metadata())
