"""IVMS101.2023 as Pydantic v2 models: the form Tessera stores and hands on.

JSON names are the standard's camelCase (`naturalPersonNameIdentifierType`, `originatingVASP`); Python names
are snake_case. Unknown fields are refused, codes are upper-cased (transliteration methods lower-cased) and
each model enforces the constraints of its own level. The entities keep the standard's literal nesting:
`{"originatingVASP": {"originatingVASP": Person}}`, likewise `beneficiaryVASP` and
`{"transferPath": {"transferPath": [...]}}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from server_fastapi.compliance.ivms101 import constraints
from server_fastapi.compliance.ivms101.constraints import Issue
from server_fastapi.compliance.ivms101.fields import (
    AddressType,
    CountryCode,
    DateOfBirth,
    LegalPersonNameType,
    LegalPersonNationalIdentifierType,
    LocalMax100Text,
    Max16Text,
    Max35Text,
    Max50Text,
    Max70Text,
    Max100Text,
    Max512Text,
    NationalIdentifierType,
    NaturalPersonNameType,
    Number,
    PayloadVersion2023,
    RegistrationAuthority,
    TransliterationMethod,
)


class IVMS101Model(BaseModel):
    """Base of every IVMS101 component: camelCase JSON only, nothing unknown, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        extra="forbid",
        strict=True,
        frozen=True,
    )

    def to_json(self) -> dict[str, Any]:
        """The JSON form, absent elements left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def enforce(issues: Iterable[Issue]) -> None:
    """Raise the constraint violations of one model as a single Pydantic error typed by the first rule."""
    found = list(issues)
    if found:
        described = "; ".join(
            f"{issue.rule} at {'/'.join(map(str, issue.loc)) or '.'}: {issue.message}" for issue in found
        )
        raise PydanticCustomError(found[0].rule, "{described}", {"described": described})


def _upper_lei(data: Any) -> Any:
    """An LEI is a code: match it in upper case, as the other codes are (before the C11 check)."""
    if isinstance(data, dict):
        kind, identifier = data.get("nationalIdentifierType"), data.get("nationalIdentifier")
        if isinstance(kind, str) and kind.upper() == "LEIX" and isinstance(identifier, str):
            return {**data, "nationalIdentifier": identifier.upper()}
    return data


class NaturalPersonNameId(IVMS101Model):
    primary_identifier: Max100Text
    secondary_identifier: Max100Text | None = None
    natural_person_name_identifier_type: NaturalPersonNameType


class LocalNaturalPersonNameId(IVMS101Model):
    primary_identifier: LocalMax100Text
    secondary_identifier: LocalMax100Text | None = None
    name_identifier_type: NaturalPersonNameType


class NaturalPersonName(IVMS101Model):
    name_identifier: Annotated[list[NaturalPersonNameId], Field(min_length=1)]
    local_name_identifier: list[LocalNaturalPersonNameId] | None = None
    phonetic_name_identifier: list[LocalNaturalPersonNameId] | None = None

    @model_validator(mode="after")
    def _c6(self) -> Self:
        enforce(constraints.natural_person_name_issues(self.to_json(), "2023"))
        return self


class Address(IVMS101Model):
    address_type: AddressType
    department: Max50Text | None = None
    sub_department: Max70Text | None = None
    street_name: Max70Text | None = None
    building_number: Max16Text | None = None
    building_name: Max35Text | None = None
    floor: Max70Text | None = None
    post_box: Max16Text | None = None
    room: Max70Text | None = None
    # The standard's table spells it postcode, its element list postCode: both are read, postcode is written.
    postcode: Max16Text | None = Field(default=None, validation_alias=AliasChoices("postcode", "postCode"))
    town_name: Max35Text  # required: Tessera's decision where the 2023 text contradicts itself
    town_location_name: Max35Text | None = None
    district_name: Max35Text | None = None
    country_sub_division: Max35Text | None = None
    address_line: Annotated[list[Max70Text], Field(max_length=7)] | None = None
    country: CountryCode

    @model_validator(mode="after")
    def _c8(self) -> Self:
        enforce(constraints.address_issues(self.to_json()))
        return self


class DateAndPlaceOfBirth(IVMS101Model):
    date_of_birth: DateOfBirth
    place_of_birth: Max70Text


class NationalIdentification(IVMS101Model):
    """A natural person's national identification: any identifier type; an LEI must still be valid."""

    national_identifier: Max35Text
    national_identifier_type: NationalIdentifierType
    country_of_issue: CountryCode | None = None
    registration_authority: RegistrationAuthority | None = None

    @model_validator(mode="before")
    @classmethod
    def _codes(cls, data: Any) -> Any:
        return _upper_lei(data)

    @model_validator(mode="after")
    def _lei(self) -> Self:
        enforce(constraints.national_identification_issues(self.to_json(), legal_person=False))
        return self


class LegalPersonNationalIdentification(IVMS101Model):
    """A legal person's national identification: C7 (its types), C9 (its completeness), C11 (its LEI)."""

    national_identifier: Max35Text
    national_identifier_type: LegalPersonNationalIdentifierType
    country_of_issue: CountryCode | None = None
    registration_authority: RegistrationAuthority | None = None

    @model_validator(mode="before")
    @classmethod
    def _codes(cls, data: Any) -> Any:
        return _upper_lei(data)

    @model_validator(mode="after")
    def _c9_c11(self) -> Self:
        enforce(constraints.national_identification_issues(self.to_json(), legal_person=True))
        return self


class NaturalPerson(IVMS101Model):
    """An individual. Also the shape of a trader's KYC identity."""

    name: NaturalPersonName
    geographic_address: list[Address] | None = None
    national_identification: NationalIdentification | None = None
    customer_identification: Max50Text | None = None
    date_and_place_of_birth: DateAndPlaceOfBirth | None = None
    country_of_residence: CountryCode | None = None

    @property
    def date_of_birth(self) -> date | None:
        return self.date_and_place_of_birth.date_of_birth if self.date_and_place_of_birth else None


class LegalPersonNameId(IVMS101Model):
    legal_person_name: Max100Text
    legal_person_name_identifier_type: LegalPersonNameType


class LocalLegalPersonNameId(IVMS101Model):
    legal_person_name: LocalMax100Text
    legal_person_name_identifier_type: LegalPersonNameType


class LegalPersonName(IVMS101Model):
    name_identifier: Annotated[list[LegalPersonNameId], Field(min_length=1)]
    local_name_identifier: list[LocalLegalPersonNameId] | None = None
    phonetic_name_identifier: list[LocalLegalPersonNameId] | None = None

    @model_validator(mode="after")
    def _c5(self) -> Self:
        enforce(constraints.legal_person_name_issues(self.to_json()))
        return self


class LegalPerson(IVMS101Model):
    name: LegalPersonName
    geographic_address: list[Address] | None = None
    customer_identification: Max50Text | None = None
    national_identification: LegalPersonNationalIdentification | None = None
    country_of_registration: CountryCode | None = None


class Person(IVMS101Model):
    """Exactly one of a natural or a legal person, with the accounts used for the transfer."""

    natural_person: NaturalPerson | None = None
    legal_person: LegalPerson | None = None
    account_number: list[Max512Text] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        enforce(constraints.person_choice_issues(self.to_json()))
        return self


class Originator(IVMS101Model):
    originator_person: Annotated[list[Person], Field(min_length=1)]

    @model_validator(mode="after")
    def _c1_c4(self) -> Self:
        for index, person in enumerate(self.originator_person):
            enforce(
                Issue(("originatorPerson", index, *issue.loc), issue.rule, issue.message)
                for issue in constraints.originator_issues(person.to_json())
            )
        return self


class Beneficiary(IVMS101Model):
    beneficiary_person: Annotated[list[Person], Field(min_length=1)]


class OriginatingVASP(IVMS101Model):
    originating_vasp: Person | None = Field(default=None, alias="originatingVASP")


class BeneficiaryVASP(IVMS101Model):
    beneficiary_vasp: Person | None = Field(default=None, alias="beneficiaryVASP")


class IntermediaryVASP(IVMS101Model):
    intermediary_vasp: Person = Field(alias="intermediaryVASP")
    sequence: Number


class TransferPath(IVMS101Model):
    transfer_path: list[IntermediaryVASP] | None = None

    @model_validator(mode="after")
    def _c12(self) -> Self:
        enforce(constraints.transfer_path_issues(self.to_json()))
        if self.transfer_path:  # normalised: in the order of the chain
            return self.model_copy(
                update={"transfer_path": sorted(self.transfer_path, key=lambda hop: hop.sequence)}
            )
        return self


class PayloadMetadata(IVMS101Model):
    transliteration_method: list[TransliterationMethod] | None = None
    payload_version: PayloadVersion2023


class IVMS101Payload(IVMS101Model):
    """A whole IVMS101.2023 payload."""

    originator: Originator
    beneficiary: Beneficiary
    originating_vasp: OriginatingVASP | None = Field(default=None, alias="originatingVASP")
    beneficiary_vasp: BeneficiaryVASP | None = Field(default=None, alias="beneficiaryVASP")
    transfer_path: TransferPath | None = None
    payload_metadata: PayloadMetadata
