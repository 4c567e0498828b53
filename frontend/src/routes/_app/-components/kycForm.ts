/**
 * The KYC form's fields and the body of `PUT /api/v1/kyc` they make: the trader as an IVMS101.2023 natural
 * person, whom every withdrawal names as its originator. Each input is tied to its JSON path in the body, so
 * the API's problem pointers (`/natural_person/dateAndPlaceOfBirth/dateOfBirth`) land beside it through the
 * mapping the withdrawal form uses too.
 */
import type { QueryClient } from "@tanstack/react-query";

import { getComplianceGetKycQueryOptions } from "../../../api/generated/compliance/compliance";
import type { KycProfileUpdate } from "../../../api/generated/model";
import { isProblemError } from "../../../api/problem";
import { formErrors, type FormErrors } from "../../../lib/formErrors";
import { at, sameJson, textAt } from "../../../lib/json";

export interface KycForm {
  lastName: string;
  firstName: string;
  /** ISO 3166-1 alpha-2, optional. */
  countryOfResidence: string;
  addressType: string;
  streetName: string;
  buildingNumber: string;
  buildingName: string;
  postcode: string;
  townName: string;
  countrySubDivision: string;
  addressCountry: string;
  nationalIdType: string;
  nationalId: string;
  nationalIdCountry: string;
  /** YYYY-MM-DD, as a date input gives it. */
  birthDate: string;
  birthPlace: string;
}

/** The optional parts of the identity; a rule about a part as a whole (C8 on an address) is shown on it. */
export type KycPart = "address" | "identification" | "birth";

/** The settings section's anchor, which the withdrawals page links to. */
export const KYC_SECTION_ID = "identity";

export const ADDRESS_TYPES = [
  { value: "HOME", label: "Home" },
  { value: "BIZZ", label: "Business" },
  { value: "GEOG", label: "Other (geographic)" },
];

export const NATIONAL_ID_TYPES = [
  { value: "CCPT", label: "Passport number" },
  { value: "IDCD", label: "Identity card number" },
  { value: "DRLC", label: "Driving licence number" },
  { value: "SOCS", label: "Social security number" },
  { value: "TXID", label: "Tax identification number" },
  { value: "ARNU", label: "Alien registration number" },
  { value: "FIIN", label: "Foreign investment identity number" },
  { value: "RAID", label: "Registration authority identifier" },
  { value: "LEIX", label: "Legal Entity Identifier (LEI)" },
  { value: "MISC", label: "Other" },
];

export const PART_FIELDS: Record<KycPart, (keyof KycForm)[]> = {
  address: ["addressType", "streetName", "buildingNumber", "buildingName", "postcode", "townName", "countrySubDivision", "addressCountry"],
  identification: ["nationalIdType", "nationalId", "nationalIdCountry"],
  birth: ["birthDate", "birthPlace"],
};

const PERSON = "natural_person";
const NAME = `${PERSON}.name.nameIdentifier.0`;
const ADDRESS = `${PERSON}.geographicAddress.0`;
const NATIONAL_ID = `${PERSON}.nationalIdentification`;
const BIRTH = `${PERSON}.dateAndPlaceOfBirth`;

export const KYC_FIELD_PATHS: Record<keyof KycForm | KycPart | "person", string> = {
  lastName: `${NAME}.primaryIdentifier`,
  firstName: `${NAME}.secondaryIdentifier`,
  countryOfResidence: `${PERSON}.countryOfResidence`,
  addressType: `${ADDRESS}.addressType`,
  streetName: `${ADDRESS}.streetName`,
  buildingNumber: `${ADDRESS}.buildingNumber`,
  buildingName: `${ADDRESS}.buildingName`,
  postcode: `${ADDRESS}.postcode`,
  townName: `${ADDRESS}.townName`,
  countrySubDivision: `${ADDRESS}.countrySubDivision`,
  addressCountry: `${ADDRESS}.country`,
  nationalIdType: `${NATIONAL_ID}.nationalIdentifierType`,
  nationalId: `${NATIONAL_ID}.nationalIdentifier`,
  nationalIdCountry: `${NATIONAL_ID}.countryOfIssue`,
  birthDate: `${BIRTH}.dateOfBirth`,
  birthPlace: `${BIRTH}.placeOfBirth`,
  address: ADDRESS,
  identification: NATIONAL_ID,
  birth: BIRTH,
  // C1, about the person as a whole: an originator needs an address, an identification or a birth.
  person: PERSON,
};

/**
 * The trader's KYC identity for a route's loader. Without one the answer is 404 `kyc-missing`, expected
 * rather than a failure: the page shows it (and any other failure) from the cached query.
 */
export function prefetchKyc(queryClient: QueryClient): Promise<unknown> {
  return queryClient.query(getComplianceGetKycQueryOptions()).catch(() => undefined);
}

/** The query the pages read; a 404 the loader already got is not asked again on mount. */
export const kycQueryOptions = () => ({ ...getComplianceGetKycQueryOptions(), retryOnMount: false });

/** The answer of `GET /api/v1/kyc`, and of a withdrawal request, when no KYC identity is on file. */
export function isKycMissing(error: unknown): boolean {
  return isProblemError(error) && error.slug === "kyc-missing";
}

/**
 * The inputs for an identity on file (IVMS101 JSON as the API normalised it), or empty ones for none. The
 * name shown is the legal (LEGL) one, the address the first.
 */
export function kycFormFrom(person: Record<string, unknown> | undefined): KycForm {
  const names = at(person, "name", "nameIdentifier");
  const name: unknown = Array.isArray(names) ? ((names as unknown[]).find((entry) => at(entry, "naturalPersonNameIdentifierType") === "LEGL") ?? names[0]) : undefined;
  const address = at(person, "geographicAddress", 0);
  const nationalId = at(person, "nationalIdentification");
  const birth = at(person, "dateAndPlaceOfBirth");
  return {
    lastName: textAt(name, "primaryIdentifier"),
    firstName: textAt(name, "secondaryIdentifier"),
    countryOfResidence: textAt(person, "countryOfResidence"),
    addressType: textAt(address, "addressType") || "HOME",
    streetName: textAt(address, "streetName"),
    buildingNumber: textAt(address, "buildingNumber"),
    buildingName: textAt(address, "buildingName"),
    postcode: textAt(address, "postcode"),
    townName: textAt(address, "townName"),
    countrySubDivision: textAt(address, "countrySubDivision"),
    addressCountry: textAt(address, "country"),
    nationalIdType: textAt(nationalId, "nationalIdentifierType") || "CCPT",
    nationalId: textAt(nationalId, "nationalIdentifier"),
    nationalIdCountry: textAt(nationalId, "countryOfIssue"),
    birthDate: textAt(birth, "dateOfBirth"),
    birthPlace: textAt(birth, "placeOfBirth"),
  };
}

/** The inputs that are not empty, trimmed. */
function given(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields)
      .map(([key, value]): [string, string] => [key, value.trim()])
      .filter(([, value]) => value !== ""),
  );
}

const hasAny = (fields: Record<string, string>) => Object.keys(fields).length > 0;

/**
 * The body of `PUT /api/v1/kyc`: the identity as the form shows it, replacing the one on file. Empty inputs
 * are left out, and a part only when all its inputs are, so the API (the one IVMS101 authority) says what a
 * started part still needs, at its own pointer; the legal name is always sent, so a missing one is named too.
 */
export function kycBody(form: KycForm): KycProfileUpdate {
  const nameIdentifier = { ...given({ primaryIdentifier: form.lastName, secondaryIdentifier: form.firstName }), naturalPersonNameIdentifierType: "LEGL" };
  const person: Record<string, unknown> = { name: { nameIdentifier: [nameIdentifier] } };
  const address = given({
    streetName: form.streetName,
    buildingNumber: form.buildingNumber,
    buildingName: form.buildingName,
    postcode: form.postcode,
    townName: form.townName,
    countrySubDivision: form.countrySubDivision,
    country: form.addressCountry.toUpperCase(),
  });
  if (hasAny(address)) person.geographicAddress = [{ addressType: form.addressType, ...address }];
  const nationalId = given({ nationalIdentifier: form.nationalId, countryOfIssue: form.nationalIdCountry.toUpperCase() });
  if (hasAny(nationalId)) person.nationalIdentification = { ...nationalId, nationalIdentifierType: form.nationalIdType };
  const birth = given({ dateOfBirth: form.birthDate, placeOfBirth: form.birthPlace });
  if (hasAny(birth)) person.dateAndPlaceOfBirth = birth;
  const residence = form.countryOfResidence.trim().toUpperCase();
  if (residence !== "") person.countryOfResidence = residence;
  return { natural_person: person };
}

/**
 * Whether the identity on file holds details the form does not show (a second address, a name in another
 * script, an address line set through the API), which saving the form would replace.
 */
export function hasUnshownDetails(person: Record<string, unknown>): boolean {
  return !sameJson(kycBody(kycFormFrom(person)).natural_person, person);
}

/** A failed save as the form shows it: beside the inputs, on the parts, and the rest above. */
export function kycErrors(error: unknown): FormErrors<keyof KycForm | KycPart | "person"> {
  return formErrors(error, KYC_FIELD_PATHS);
}
