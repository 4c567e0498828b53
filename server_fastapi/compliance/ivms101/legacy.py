"""IVMS101 (2020 edition) as Pydantic v2 models, and their conversion to the 2023 form.

Where 2020 differs: `originatorPersons`/`beneficiaryPersons` with the `accountNumber` list (Max100Text) on
the originator and beneficiary rather than on each person; `nameIdentifierType` rather than
`naturalPersonNameIdentifierType`; `customerNumber`, which the 2020 text also calls
`customerIdentification` (both read); no `payloadVersion`, or "101".
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import AliasChoices, Field, model_validator

from server_fastapi.compliance.ivms101 import constraints
from server_fastapi.compliance.ivms101.constraints import Issue
from server_fastapi.compliance.ivms101.fields import (
    CountryCode,
    Max50Text,
    Max100Text,
    NaturalPersonNameType,
    Number,
    PayloadVersion2020,
    TransliterationMethod,
)
from server_fastapi.compliance.ivms101.models import (
    Address,
    DateAndPlaceOfBirth,
    IVMS101Model,
    LegalPersonName,
    LegalPersonNationalIdentification,
    LocalNaturalPersonNameId,
    NationalIdentification,
    enforce,
)

_CUSTOMER = AliasChoices("customerIdentification", "customerNumber")


class NaturalPersonNameId2020(IVMS101Model):
    primary_identifier: Max100Text
    secondary_identifier: Max100Text | None = None
    name_identifier_type: NaturalPersonNameType


class NaturalPersonName2020(IVMS101Model):
    name_identifier: Annotated[list[NaturalPersonNameId2020], Field(min_length=1)]
    local_name_identifier: list[LocalNaturalPersonNameId] | None = None
    phonetic_name_identifier: list[LocalNaturalPersonNameId] | None = None

    @model_validator(mode="after")
    def _c6(self) -> Self:
        enforce(constraints.natural_person_name_issues(self.to_json(), "2020"))
        return self


class NaturalPerson2020(IVMS101Model):
    name: NaturalPersonName2020
    geographic_address: list[Address] | None = None
    national_identification: NationalIdentification | None = None
    customer_identification: Max50Text | None = Field(default=None, validation_alias=_CUSTOMER)
    date_and_place_of_birth: DateAndPlaceOfBirth | None = None
    country_of_residence: CountryCode | None = None


class LegalPerson2020(IVMS101Model):
    name: LegalPersonName
    geographic_address: list[Address] | None = None
    customer_identification: Max50Text | None = Field(default=None, validation_alias=_CUSTOMER)
    national_identification: LegalPersonNationalIdentification | None = None
    country_of_registration: CountryCode | None = None


class Person2020(IVMS101Model):
    natural_person: NaturalPerson2020 | None = None
    legal_person: LegalPerson2020 | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        enforce(constraints.person_choice_issues(self.to_json()))
        return self


class Originator2020(IVMS101Model):
    originator_persons: Annotated[list[Person2020], Field(min_length=1)]
    account_number: list[Max100Text] | None = None

    @model_validator(mode="after")
    def _c1_c4(self) -> Self:
        for index, person in enumerate(self.originator_persons):
            enforce(
                Issue(("originatorPersons", index, *issue.loc), issue.rule, issue.message)
                for issue in constraints.originator_issues(person.to_json())
            )
        return self


class Beneficiary2020(IVMS101Model):
    beneficiary_persons: Annotated[list[Person2020], Field(min_length=1)]
    account_number: list[Max100Text] | None = None


class OriginatingVASP2020(IVMS101Model):
    originating_vasp: Person2020 | None = Field(default=None, alias="originatingVASP")


class BeneficiaryVASP2020(IVMS101Model):
    beneficiary_vasp: Person2020 | None = Field(default=None, alias="beneficiaryVASP")


class IntermediaryVASP2020(IVMS101Model):
    intermediary_vasp: Person2020 = Field(alias="intermediaryVASP")
    sequence: Number


class TransferPath2020(IVMS101Model):
    transfer_path: list[IntermediaryVASP2020] | None = None

    @model_validator(mode="after")
    def _c12(self) -> Self:
        enforce(constraints.transfer_path_issues(self.to_json()))
        return self


class PayloadMetadata2020(IVMS101Model):
    transliteration_method: list[TransliterationMethod] | None = None
    payload_version: PayloadVersion2020 | None = None


class IVMS101Payload2020(IVMS101Model):
    """A whole IVMS101 (2020) payload."""

    originator: Originator2020
    beneficiary: Beneficiary2020
    originating_vasp: OriginatingVASP2020 | None = Field(default=None, alias="originatingVASP")
    beneficiary_vasp: BeneficiaryVASP2020 | None = Field(default=None, alias="beneficiaryVASP")
    transfer_path: TransferPath2020 | None = None
    payload_metadata: PayloadMetadata2020 | None = None

    def to_2023_json(self) -> dict[str, Any]:
        """The same payload in the 2023 form. An originator's or beneficiary's account numbers go to each
        of its persons: the 2023 edition keeps them on the person, and a joint account is each holder's."""
        source = self.to_json()
        result: dict[str, Any] = {}
        for entity, key in (("originator", "originatorPersons"), ("beneficiary", "beneficiaryPersons")):
            accounts = source[entity].get("accountNumber")
            persons = []
            for person in source[entity][key]:
                converted = _person_to_2023(person)
                if accounts:
                    converted["accountNumber"] = list(accounts)
                persons.append(converted)
            result[entity] = {key[:-1]: persons}
        for entity in ("originatingVASP", "beneficiaryVASP"):
            if entity in source:
                wrapper = source[entity]
                result[entity] = {entity: _person_to_2023(wrapper[entity])} if entity in wrapper else {}
        if "transferPath" in source:
            hops = source["transferPath"].get("transferPath")
            result["transferPath"] = (
                {}
                if hops is None
                else {
                    "transferPath": [
                        {
                            "intermediaryVASP": _person_to_2023(hop["intermediaryVASP"]),
                            "sequence": hop["sequence"],
                        }
                        for hop in hops
                    ]
                }
            )
        metadata: dict[str, Any] = {"payloadVersion": "101.2023"}
        methods = source.get("payloadMetadata", {}).get("transliterationMethod")
        if methods is not None:
            metadata["transliterationMethod"] = methods
        result["payloadMetadata"] = metadata
        return result


def _person_to_2023(person: dict[str, Any]) -> dict[str, Any]:
    converted = dict(person)
    natural = person.get("naturalPerson")
    if natural is not None:
        name = dict(natural["name"])
        name["nameIdentifier"] = [
            {
                **{key: value for key, value in entry.items() if key != "nameIdentifierType"},
                "naturalPersonNameIdentifierType": entry["nameIdentifierType"],
            }
            for entry in name["nameIdentifier"]
        ]
        converted["naturalPerson"] = {**natural, "name": name}
    return converted
