/**
 * Names from an IVMS101.2023 payload as the review queue shows them: "Lovelace, Augusta Ada". The payload
 * arrives as plain JSON, so every step is checked; a missing part (or an erased record) reads as undefined.
 */
import { at } from "../../../lib/json";

type Role = "originator" | "beneficiary";

export function travelRuleName(payload: Record<string, unknown> | null, role: Role): string | undefined {
  const person = at(payload, role, `${role}Person`, 0);
  const natural = at(person, "naturalPerson", "name", "nameIdentifier", 0);
  if (natural !== undefined) {
    const last = at(natural, "primaryIdentifier");
    const first = at(natural, "secondaryIdentifier");
    if (typeof last !== "string") return undefined;
    return typeof first === "string" && first !== "" ? `${last}, ${first}` : last;
  }
  const legal = at(person, "legalPerson", "name", "nameIdentifier", 0, "legalPersonName");
  return typeof legal === "string" ? legal : undefined;
}
