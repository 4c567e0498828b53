import { describe, expect, it } from "vitest";

import { ProblemError, problemFromResponse } from "../../../api/problem";
import { hasUnshownDetails, isKycMissing, kycBody, kycErrors, kycFormFrom, type KycForm } from "./kycForm";

const empty = kycFormFrom(undefined);

const form: KycForm = {
  ...empty,
  lastName: " Lovelace ",
  firstName: "Augusta Ada",
  countryOfResidence: "gb",
  addressType: "HOME",
  streetName: "St James's Square",
  buildingNumber: "12",
  townName: "London",
  addressCountry: "gb",
  birthDate: "1815-12-10",
  birthPlace: "London",
};

/** The identity the API answers with for `form`: normalised, absent elements left out. */
const onFile = {
  name: { nameIdentifier: [{ primaryIdentifier: "Lovelace", secondaryIdentifier: "Augusta Ada", naturalPersonNameIdentifierType: "LEGL" }] },
  geographicAddress: [{ addressType: "HOME", streetName: "St James's Square", buildingNumber: "12", townName: "London", country: "GB" }],
  dateAndPlaceOfBirth: { dateOfBirth: "1815-12-10", placeOfBirth: "London" },
  countryOfResidence: "GB",
};

const problem = (status: number, body: Record<string, unknown>) =>
  new ProblemError(problemFromResponse(status, "application/problem+json", { title: "Problem", status, ...body }, "/api/v1/kyc"));

describe("KYC form", () => {
  it("puts the identity into IVMS101 shape and leaves out the parts that are empty", () => {
    expect(kycBody(form)).toEqual({ natural_person: onFile });
    expect(kycBody(empty)).toEqual({ natural_person: { name: { nameIdentifier: [{ naturalPersonNameIdentifierType: "LEGL" }] } } });
  });

  it("sends a started part as it is, so the API names what it still needs", () => {
    const body = kycBody({ ...empty, lastName: "Lovelace", nationalIdCountry: "fr", birthPlace: "London" });
    expect(body.natural_person).toEqual({
      name: { nameIdentifier: [{ primaryIdentifier: "Lovelace", naturalPersonNameIdentifierType: "LEGL" }] },
      nationalIdentification: { countryOfIssue: "FR", nationalIdentifierType: "CCPT" },
      dateAndPlaceOfBirth: { placeOfBirth: "London" },
    });
  });

  it("fills the inputs from the identity on file, showing its legal name", () => {
    const withAlias = { ...onFile, name: { nameIdentifier: [{ primaryIdentifier: "Ada", naturalPersonNameIdentifierType: "ALIA" }, ...onFile.name.nameIdentifier] } };
    expect(kycFormFrom(onFile)).toEqual({ ...form, lastName: "Lovelace", countryOfResidence: "GB", addressCountry: "GB" });
    expect(kycFormFrom(withAlias).lastName).toBe("Lovelace");
    expect(hasUnshownDetails(onFile)).toBe(false);
    expect(hasUnshownDetails(withAlias)).toBe(true);
    expect(hasUnshownDetails({ ...onFile, customerIdentification: "C-42" })).toBe(true);
  });

  it("shows the API's field errors beside the inputs, part rules on their part, the rest above", () => {
    const error = problem(422, {
      type: "urn:tessera:problem:validation",
      detail: "The identity breaks 4 rules of IVMS101.",
      errors: [
        { location: "body", pointer: "/natural_person/countryOfResidence", detail: "'UK' is not an ISO 3166-1 alpha-2 country code (nor XX)", code: "C3" },
        { location: "body", pointer: "/natural_person/dateAndPlaceOfBirth/dateOfBirth", detail: "dateOfBirth 2999-01-01 is not before today (2026-01-01)", code: "C2" },
        { location: "body", pointer: "/natural_person/geographicAddress/0", detail: "an address needs addressLine, or streetName with buildingName or buildingNumber", code: "C8" },
        { location: "body", pointer: "/natural_person/name/localNameIdentifier/0/primaryIdentifier", detail: "is required", code: "required" },
      ],
    });
    expect(kycErrors(error)).toEqual({
      fields: {
        countryOfResidence: "'UK' is not an ISO 3166-1 alpha-2 country code (nor XX)",
        birthDate: "dateOfBirth 2999-01-01 is not before today (2026-01-01)",
        address: "an address needs addressLine, or streetName with buildingName or buildingNumber",
      },
      form: ["The identity breaks 4 rules of IVMS101.", "natural_person.name.localNameIdentifier.0.primaryIdentifier: is required"],
    });
  });

  it("puts a rule about the identity as a whole on the person", () => {
    const error = problem(422, {
      detail: "The identity breaks 1 rule of IVMS101.",
      errors: [{ location: "body", pointer: "/natural_person", detail: "an originating natural person needs a GEOG, HOME or BIZZ geographicAddress, …", code: "C1" }],
    });
    expect(kycErrors(error)).toEqual({
      fields: { person: "an originating natural person needs a GEOG, HOME or BIZZ geographicAddress, …" },
      form: ["The identity breaks 1 rule of IVMS101."],
    });
  });

  it("knows the answer for an identity not on file", () => {
    expect(isKycMissing(problem(404, { type: "urn:tessera:problem:kyc-missing", detail: "No KYC profile is on file for this account." }))).toBe(true);
    expect(isKycMissing(problem(404, { type: "urn:tessera:problem:not-found", detail: "Not Found" }))).toBe(false);
    expect(isKycMissing(new Error("offline"))).toBe(false);
  });
});
