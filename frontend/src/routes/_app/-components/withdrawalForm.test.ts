import { describe, expect, it } from "vitest";

import { ProblemError, problemFromResponse } from "../../../api/problem";
import { withdrawalBody, withdrawalErrors, type WithdrawalForm } from "./withdrawalForm";

const form: WithdrawalForm = {
  asset: "ETH",
  amount: "0.25",
  chainId: "11155111",
  destination: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
  lastName: "Barnes",
  firstName: "Robert",
  country: "gb",
  totp: "",
};

const problem = (status: number, body: Record<string, unknown>) =>
  new ProblemError(problemFromResponse(status, "application/problem+json", { title: "Problem", status, ...body }, "/api/v1/withdrawals"));

describe("withdrawal form", () => {
  it("puts the beneficiary into IVMS101 shape and leaves out what is empty", () => {
    expect(withdrawalBody(form)).toEqual({
      asset: "ETH",
      amount: "0.25",
      chain_id: 11155111,
      destination: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
      beneficiary: {
        naturalPerson: {
          name: { nameIdentifier: [{ primaryIdentifier: "Barnes", secondaryIdentifier: "Robert", naturalPersonNameIdentifierType: "LEGL" }] },
          countryOfResidence: "GB",
        },
      },
    });
    const bare = withdrawalBody({ ...form, lastName: " ", country: "", totp: "123456" });
    expect(bare.beneficiary).toEqual({ naturalPerson: { name: { nameIdentifier: [{ secondaryIdentifier: "Robert", naturalPersonNameIdentifierType: "LEGL" }] } } });
    expect(bare.totp).toBe("123456");
  });

  it("shows the API's field errors beside the inputs they point at", () => {
    const error = problem(422, {
      type: "urn:tessera:problem:validation",
      detail: "The request has 2 invalid fields.",
      errors: [
        { location: "body", pointer: "/beneficiary/naturalPerson/name/nameIdentifier/0/primaryIdentifier", detail: "is required", code: "required" },
        { location: "body", pointer: "/destination", detail: "not an EIP-55 checksummed address", code: "checksum" },
      ],
    });
    expect(withdrawalErrors(error)).toEqual({
      fields: { lastName: "is required", destination: "not an EIP-55 checksummed address" },
      form: ["The request has 2 invalid fields."],
    });
  });

  it("lists errors no input holds above the form, and puts second-factor problems at the code field", () => {
    const originator = problem(422, {
      detail: "The beneficiary breaks 1 rule of IVMS101.",
      errors: [{ location: "body", pointer: "/travel_rule/originator/originatorPerson/0/naturalPerson", detail: "needs an address", code: "C1" }],
    });
    expect(withdrawalErrors(originator)).toEqual({
      fields: {},
      form: ["The beneficiary breaks 1 rule of IVMS101.", "travel_rule.originator.originatorPerson.0.naturalPerson: needs an address"],
    });
    const totp = problem(403, { type: "urn:tessera:problem:totp-invalid", detail: "The two-factor code is wrong or was already used." });
    expect(withdrawalErrors(totp)).toEqual({ fields: { totp: "The two-factor code is wrong or was already used." }, form: [] });
  });

  it("leaves a missing KYC identity to the page's notice", () => {
    const missing = problem(404, { type: "urn:tessera:problem:kyc-missing", title: "No KYC Profile", detail: "No KYC profile is on file for this account." });
    expect(withdrawalErrors(missing)).toEqual({ fields: {}, form: [] });
  });
});
