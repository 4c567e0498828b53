/**
 * The withdrawal form's fields and the request body they make (DESIGN "Withdrawals"): the beneficiary as an
 * IVMS101.2023 natural person. Each input is tied to its JSON path in the body, so the API's problem pointers
 * (`/beneficiary/naturalPerson/name/nameIdentifier/0/primaryIdentifier`) land beside it.
 */
import type { WithdrawalRequest } from "../../../api/generated/model";
import { isProblemError } from "../../../api/problem";
import { formErrors, type FormErrors } from "../../../lib/formErrors";
import { isKycMissing } from "./kycForm";

export interface WithdrawalForm {
  asset: string;
  amount: string;
  chainId: string;
  destination: string;
  lastName: string;
  firstName: string;
  /** ISO 3166-1 alpha-2, optional. */
  country: string;
  totp: string;
}

const PERSON = "beneficiary.naturalPerson";
const NAME = `${PERSON}.name.nameIdentifier.0`;

export const FIELD_PATHS: Record<keyof WithdrawalForm, string> = {
  asset: "asset",
  amount: "amount",
  chainId: "chain_id",
  destination: "destination",
  lastName: `${NAME}.primaryIdentifier`,
  firstName: `${NAME}.secondaryIdentifier`,
  country: `${PERSON}.countryOfResidence`,
  totp: "totp",
};

/** Problems about the second factor carry no pointer; they belong beside the code field all the same. */
const TOTP_PROBLEMS = new Set(["totp-required", "totp-invalid"]);

/**
 * The body of `POST /api/v1/withdrawals`. Empty optional inputs are left out; an empty name is left out too,
 * so the API (the one IVMS101 authority) says it is required, at its own pointer.
 */
export function withdrawalBody(form: WithdrawalForm): WithdrawalRequest {
  const nameIdentifier: Record<string, string> = { naturalPersonNameIdentifierType: "LEGL" };
  if (form.lastName.trim() !== "") nameIdentifier.primaryIdentifier = form.lastName.trim();
  if (form.firstName.trim() !== "") nameIdentifier.secondaryIdentifier = form.firstName.trim();
  const person: Record<string, unknown> = { name: { nameIdentifier: [nameIdentifier] } };
  if (form.country.trim() !== "") person.countryOfResidence = form.country.trim().toUpperCase();
  return {
    asset: form.asset,
    amount: form.amount.trim(),
    chain_id: Number(form.chainId),
    destination: form.destination.trim(),
    beneficiary: { naturalPerson: person },
    ...(form.totp.trim() === "" ? {} : { totp: form.totp.trim() }),
  };
}

/**
 * A failed request as the form shows it: messages beside the inputs they point at, and the rest (the
 * problem's detail, errors about parts no input holds, such as the originator from the KYC profile) above.
 * A missing KYC identity is left to the page's notice, which links to where it is entered.
 */
export function withdrawalErrors(error: unknown): FormErrors<keyof WithdrawalForm> {
  if (isProblemError(error) && TOTP_PROBLEMS.has(error.slug)) return { fields: { totp: error.problem.detail }, form: [] };
  if (isKycMissing(error)) return { fields: {}, form: [] };
  return formErrors(error, FIELD_PATHS);
}
