import { describe, expect, it } from "vitest";

import { travelRuleName } from "./travelRule";

const payload = {
  originator: { originatorPerson: [{ naturalPerson: { name: { nameIdentifier: [{ primaryIdentifier: "Lovelace", secondaryIdentifier: "Augusta Ada" }] } } }] },
  beneficiary: { beneficiaryPerson: [{ legalPerson: { name: { nameIdentifier: [{ legalPersonName: "Analytical Engines Ltd" }] } } }] },
};

describe("travel-rule names", () => {
  it("reads natural and legal persons", () => {
    expect(travelRuleName(payload, "originator")).toBe("Lovelace, Augusta Ada");
    expect(travelRuleName(payload, "beneficiary")).toBe("Analytical Engines Ltd");
  });

  it("reads an erased or malformed record as unknown", () => {
    expect(travelRuleName(null, "originator")).toBeUndefined();
    expect(travelRuleName({ originator: { originatorPerson: "nobody" } }, "originator")).toBeUndefined();
  });
});
