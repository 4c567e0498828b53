import { createFileRoute } from "@tanstack/react-router";
import { useState, type SyntheticEvent } from "react";
import { css } from "styled-system/css";

import { Button, Card, PageTitle, TextField } from "../../components/ui";
import { type WithdrawalForm } from "./-components/withdrawalForm";

export const Route = createFileRoute("/_app/withdrawals")({
  component: WithdrawalsPage,
});

const EMPTY: WithdrawalForm = { asset: "USDT", amount: "", chainId: "1", address: "", lastName: "", firstName: "", totp: "" };

// POST/GET /api/v1/withdrawals are not in the API yet: the form, its body (withdrawalBody) and the
// problem-pointer mapping (formFieldErrors) are ready; submission and history wait for those routes.
function WithdrawalsPage() {
  const [form, setForm] = useState(EMPTY);
  const update = (key: keyof WithdrawalForm) => (event: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [key]: event.target.value });
  const onSubmit = (event: SyntheticEvent<HTMLFormElement>) => event.preventDefault();
  return (
    <>
      <PageTitle>Withdrawals</PageTitle>
      <div className={css({ display: "grid", gap: "4", gridTemplateColumns: { base: "1fr", lg: "420px 1fr" } })}>
        <Card title="New withdrawal">
          <form onSubmit={onSubmit} noValidate className={css({ display: "flex", flexDirection: "column", gap: "3" })}>
            <TextField label="Asset" name="asset" value={form.asset} onChange={update("asset")} />
            <TextField label="Amount" name="amount" inputMode="decimal" value={form.amount} onChange={update("amount")} />
            <TextField label="Chain id" name="chain_id" inputMode="numeric" value={form.chainId} onChange={update("chainId")} hint="1 is Ethereum mainnet." />
            <TextField label="Destination address" name="address" value={form.address} onChange={update("address")} hint="EIP-55 checksummed 0x address." />
            <fieldset className={css({ display: "flex", flexDirection: "column", gap: "3", borderWidth: "1px", borderColor: "border.default", borderRadius: "md", p: "3" })}>
              <legend className={css({ fontSize: "sm", fontWeight: "semibold", px: "1" })}>Beneficiary (travel rule)</legend>
              <TextField label="Last name" name="beneficiary_last_name" value={form.lastName} onChange={update("lastName")} />
              <TextField label="First name" name="beneficiary_first_name" value={form.firstName} onChange={update("firstName")} />
            </fieldset>
            <TextField label="Two-factor code" name="totp" inputMode="numeric" autoComplete="one-time-code" value={form.totp} onChange={update("totp")} />
            <Button type="submit" disabled>
              Request withdrawal
            </Button>
            <p className={css({ fontSize: "xs", color: "fg.muted" })}>Withdrawals open once the withdrawal service is live.</p>
          </form>
        </Card>
        <Card title="History">
          <p className={css({ color: "fg.muted", fontSize: "sm" })}>No withdrawals yet.</p>
        </Card>
      </div>
    </>
  );
}
