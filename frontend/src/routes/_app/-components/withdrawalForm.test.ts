import { describe, expect, it } from "vitest";

import { ProblemError, problemFromResponse } from "../../../api/problem";
import { formFieldErrors, withdrawalBody, type WithdrawalForm } from "./withdrawalForm";

const form: WithdrawalForm = { asset: "USDT", amount: "25.5", chainId: "1", address: "0xabc", lastName: "Barnes", firstName: "Robert", totp: "123456" };

describe("withdrawal form", () => {
  it("puts the beneficiary into IVMS101 shape", () => {
    expect(withdrawalBody(form).beneficiary.beneficiaryPerson[0]?.naturalPerson.name.nameIdentifier[0]).toEqual({
      primaryIdentifier: "Barnes",
      secondaryIdentifier: "Robert",
      naturalPersonNameIdentifierType: "LEGL",
    });
  });

  it("shows the API's field errors beside the inputs they point at", () => {
    const problem = problemFromResponse(
      422,
      "application/problem+json",
      {
        type: "urn:tessera:problem:validation",
        title: "Invalid Input",
        status: 422,
        detail: "The request has 2 invalid fields.",
        errors: [
          { location: "body", pointer: "/beneficiary/beneficiaryPerson/0/naturalPerson/name/nameIdentifier/0/primaryIdentifier", detail: "required", code: "missing" },
          { location: "body", pointer: "/address", detail: "not an EIP-55 address", code: "checksum" },
        ],
      },
      "/api/v1/withdrawals",
    );
    expect(formFieldErrors(new ProblemError(problem).fieldErrors)).toEqual({ lastName: "required", address: "not an EIP-55 address" });
  });
});
