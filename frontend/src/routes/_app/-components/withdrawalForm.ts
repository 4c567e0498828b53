/**
 * The withdrawal form's fields and the request body they make (DESIGN "Withdrawals"): the beneficiary as
 * IVMS101 JSON. Each input is named by its JSON path in the body, so the API's problem pointers
 * (`/beneficiary/beneficiaryPerson/0/naturalPerson/name/nameIdentifier/0/primaryIdentifier`) land on it.
 */
export interface WithdrawalForm {
  asset: string;
  amount: string;
  chainId: string;
  address: string;
  lastName: string;
  firstName: string;
  totp: string;
}

const PERSON = "beneficiary.beneficiaryPerson.0.naturalPerson";

export const FIELD_PATHS: Record<keyof WithdrawalForm, string> = {
  asset: "asset",
  amount: "amount",
  chainId: "chain_id",
  address: "address",
  lastName: `${PERSON}.name.nameIdentifier.0.primaryIdentifier`,
  firstName: `${PERSON}.name.nameIdentifier.0.secondaryIdentifier`,
  totp: "totp",
};

export function withdrawalBody(form: WithdrawalForm) {
  return {
    asset: form.asset,
    amount: form.amount,
    chain_id: Number(form.chainId),
    address: form.address,
    totp: form.totp,
    beneficiary: {
      beneficiaryPerson: [
        {
          naturalPerson: {
            name: {
              nameIdentifier: [{ primaryIdentifier: form.lastName, secondaryIdentifier: form.firstName, naturalPersonNameIdentifierType: "LEGL" }],
            },
          },
          accountNumber: [form.address],
        },
      ],
    },
  };
}

/** Field messages for the form from a problem's `fieldErrors` (keyed by dotted JSON path). */
export function formFieldErrors(fieldErrors: Record<string, string>): Partial<Record<keyof WithdrawalForm, string>> {
  const result: Partial<Record<keyof WithdrawalForm, string>> = {};
  for (const [key, path] of Object.entries(FIELD_PATHS) as [keyof WithdrawalForm, string][]) {
    const message = fieldErrors[path];
    if (message !== undefined) result[key] = message;
  }
  return result;
}
