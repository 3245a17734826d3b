from sqlmodel import SQLModel

import cleanprod_verification.models  # noqa: F401 - registers every table on the metadata
from cleanprod_kit.migrations import run_env

run_env(SQLModel.metadata)
