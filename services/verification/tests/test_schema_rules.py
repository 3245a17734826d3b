"""The rules every request body and table of the service follows (checked over all of its models, so a new
schema cannot forget them): kit input types for text, dates and booleans (bodies and parameters); PATCH bodies are PatchBody; tables,
columns and their Create/Update/Public schemas agree on which fields may be null."""

from __future__ import annotations

from cleanprod_kit.testing.contracts import contract_problems, loose_parameters, request_bodies, tables
from cleanprod_verification.config import VerificationSettings
from cleanprod_verification.main import create_app


def test_every_body_and_table_follows_the_input_rules() -> None:
    assert request_bodies("cleanprod_verification") and tables("cleanprod_verification")
    assert (
        contract_problems(
            "cleanprod_verification",
            also={
                "Measurement": ("MeasurementRevise",),
                "VerificationCase": ("CasePublic",),
                "VerifierAssignment": ("AssignmentPublic", "AssignmentBody", "DeclarationBody"),
                "Conclusion": ("ResultPublic", "ConcludeBody"),
                "MeasurementRevision": ("RevisionPublic",),
                "BaselineAdjustment": ("AdjustmentPublic", "AdjustmentCreate"),
                "BaselineRefreeze": ("RefreezePublic", "RefreezeCreate"),
            },
        )
        == []
    )


def test_every_text_date_and_boolean_parameter_uses_the_kit_types() -> None:
    assert loose_parameters(create_app(VerificationSettings(log_json=False))) == []
