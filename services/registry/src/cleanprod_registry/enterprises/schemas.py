from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, EmailStr, Field, field_validator

from cleanprod_kit.fields import PatchBody, StrictBody, Text
from cleanprod_kit.tax_codes import normalise_tax_code

from ..schemas import Place, Text200, Text300, Text500
from .models import LegalForm, SizeClass

Phone = Text(32, pattern=r"^\+?[0-9 .\-()]{6,20}$")


class EnterpriseFields(StrictBody):
    name: Text300
    name_en: Text300 | None = None
    legal_form: LegalForm
    size_class: SizeClass
    address: Text500
    ward: Place
    district: Place | None = None
    province: Place = "Thành phố Hà Nội"
    contact_name: Text200 | None = None
    contact_email: EmailStr | None = None
    contact_phone: Phone | None = None


class EnterpriseCreate(EnterpriseFields):
    tax_code: Text(20, min_length=10) = Field(examples=["0100109106", "0100109106-001"])

    @field_validator("tax_code")
    @classmethod
    def _valid_tax_code(cls, value: str) -> str:
        return normalise_tax_code(value)  # InvalidTaxCode carries the code invalid_tax_code


class EnterpriseUpdate(PatchBody):
    """Partial update (PATCH): only the fields sent change. The tax code never changes."""

    name: Text300 = None
    name_en: Text300 | None = None
    legal_form: LegalForm = None
    size_class: SizeClass = None
    address: Text500 = None
    ward: Place = None
    district: Place | None = None
    province: Place = None
    contact_name: Text200 | None = None
    contact_email: EmailStr | None = None
    contact_phone: Phone | None = None


class EnterprisePublic(BaseModel):
    id: uuid.UUID
    tax_code: str
    name: str
    name_en: str | None
    legal_form: LegalForm
    size_class: SizeClass
    address: str
    ward: str
    district: str | None
    province: str
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
