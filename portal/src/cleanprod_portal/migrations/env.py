from cleanprod_kit.migrations import run_env
from cleanprod_portal.models import metadata

run_env(metadata)
