"""IVMS101 travel-rule data (2023 edition, 2020 accepted): models, validators and their rules.

`validate_ivms101(payload)` checks a whole payload and returns every violation at once, each with an
RFC 6901 JSON Pointer, the rule broken and a message; `validate_person` and `validate_natural_person` do
the same for one person (a withdrawal's beneficiary, a trader's KYC identity). The models can be used on
their own too; they enforce the same rules, but stop at the first broken constraint of an object.
"""

from server_fastapi.compliance.ivms101.codes import (
    COUNTRY_CODES,
    lei_check_digits_valid,
    registration_authority_codes,
)
from server_fastapi.compliance.ivms101.legacy import IVMS101Payload2020
from server_fastapi.compliance.ivms101.models import (
    Address,
    Beneficiary,
    BeneficiaryVASP,
    DateAndPlaceOfBirth,
    IntermediaryVASP,
    IVMS101Payload,
    LegalPerson,
    LegalPersonName,
    LegalPersonNameId,
    LegalPersonNationalIdentification,
    LocalLegalPersonNameId,
    LocalNaturalPersonNameId,
    NationalIdentification,
    NaturalPerson,
    NaturalPersonName,
    NaturalPersonNameId,
    OriginatingVASP,
    Originator,
    PayloadMetadata,
    Person,
    TransferPath,
)
from server_fastapi.compliance.ivms101.validate import (
    ValidationResult,
    Violation,
    validate_ivms101,
    validate_natural_person,
    validate_person,
)

__all__ = [
    "COUNTRY_CODES",
    "Address",
    "Beneficiary",
    "BeneficiaryVASP",
    "DateAndPlaceOfBirth",
    "IVMS101Payload",
    "IVMS101Payload2020",
    "IntermediaryVASP",
    "LegalPerson",
    "LegalPersonName",
    "LegalPersonNameId",
    "LegalPersonNationalIdentification",
    "LocalLegalPersonNameId",
    "LocalNaturalPersonNameId",
    "NationalIdentification",
    "NaturalPerson",
    "NaturalPersonName",
    "NaturalPersonNameId",
    "OriginatingVASP",
    "Originator",
    "PayloadMetadata",
    "Person",
    "TransferPath",
    "ValidationResult",
    "Violation",
    "lei_check_digits_valid",
    "registration_authority_codes",
    "validate_ivms101",
    "validate_natural_person",
    "validate_person",
]
