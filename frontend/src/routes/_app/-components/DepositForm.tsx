import { useQuery } from "@tanstack/react-query";
import { type SyntheticEvent, useState } from "react";
import { css } from "styled-system/css";

import { getAuthFindUserQueryOptions } from "../../../api/generated/auth/auth";
import { useLedgerCreateDeposit } from "../../../api/generated/ledger/ledger";
import type { DepositReceipt, User } from "../../../api/generated/model";
import { toaster } from "../../../components/toaster";
import { Button, Card, ErrorLines, ErrorNotice, SelectField, TextField } from "../../../components/ui";
import { formatDecimal } from "../../../lib/decimal";
import { formErrors } from "../../../lib/formErrors";

const DEPOSIT_PATHS = { asset: "asset", amount: "amount", reference: "reference" } as const;

/** What the receipt says happened: a credit, or a retry of one (nothing moved). */
export function receiptLine(receipt: DepositReceipt, account: User): string {
  const who = account.display_name ?? account.email;
  const balance = `${who} now has ${formatDecimal(receipt.available)} ${receipt.asset} available`;
  return receipt.credited ? `Credited under ${receipt.reference}. ${balance}.` : `${receipt.reference} was credited before; nothing moved. ${balance}.`;
}

/**
 * Credits funds received outside Tessera (a bank wire, an on-chain transfer) to an account found by its email.
 * Each external reference is credited once: the API answers a retry with the balance and moves nothing.
 */
export function DepositForm({ assets }: { assets: readonly string[] }) {
  const [email, setEmail] = useState("");
  const [lookedUp, setLookedUp] = useState<string | null>(null);
  // Every look-up is audited: asked once per address, never again behind the admin's back (focus, remount).
  const account = useQuery({ ...getAuthFindUserQueryOptions({ email: lookedUp ?? "" }), enabled: lookedUp !== null, retry: false, staleTime: Infinity, refetchOnWindowFocus: false, refetchOnReconnect: false });
  const deposit = useLedgerCreateDeposit();
  const [asset, setAsset] = useState(assets[0] ?? "");
  const [amount, setAmount] = useState("");
  const [reference, setReference] = useState("");
  const [receipt, setReceipt] = useState<string | null>(null);
  const errors = formErrors(deposit.error, DEPOSIT_PATHS);
  const found = lookedUp !== null ? account.data : undefined;

  function find(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    setLookedUp(email.trim());
    setReceipt(null);
    deposit.reset();
  }

  async function credit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    if (found === undefined) return;
    try {
      const answer = await deposit.mutateAsync({ data: { user_id: found.id, asset, amount: amount.trim(), reference: reference.trim() } });
      const line = receiptLine(answer, found);
      setReceipt(line);
      toaster.create({ type: answer.credited ? "success" : "info", title: answer.credited ? "Deposit credited" : "Already credited", description: line });
    } catch {
      setReceipt(null); // the API's errors show beside the inputs
    }
  }

  return (
    <Card title="Credit a deposit">
      <form role="search" aria-label="Find the account" onSubmit={find} className={css({ display: "flex", gap: "3", alignItems: "flex-end", flexWrap: "wrap", mb: "3" })}>
        <div className={css({ width: "80" })}>
          <TextField
            label="Account email"
            name="email"
            type="email"
            autoComplete="off"
            value={email}
            onChange={(event) => {
              setEmail(event.target.value);
              setLookedUp(null);
            }}
          />
        </div>
        <Button type="submit" variant="secondary" disabled={email.trim() === ""}>
          Find account
        </Button>
      </form>
      {lookedUp !== null && account.isFetching ? <p className={css({ fontSize: "sm", color: "fg.muted" })}>Looking the account up…</p> : null}
      {lookedUp !== null ? <ErrorNotice error={account.error} /> : null}
      {found ? (
        <form aria-label="Deposit" onSubmit={(event) => void credit(event)} noValidate className={css({ display: "flex", flexDirection: "column", gap: "3", maxWidth: "lg" })}>
          <p className={css({ fontSize: "sm" })}>
            To <strong>{found.display_name ?? found.email}</strong> ({found.role}) <span className={css({ fontFamily: "mono", fontSize: "xs", color: "fg.muted" })}>{found.id}</span>
          </p>
          <div className={css({ display: "flex", gap: "3", flexWrap: "wrap" })}>
            <div className={css({ width: "32" })}>
              <SelectField label="Asset" name="asset" value={asset} error={errors.fields.asset} onChange={(event) => setAsset(event.target.value)} options={assets.map((code) => ({ value: code, label: code }))} />
            </div>
            <div className={css({ width: "48" })}>
              <TextField label="Amount" name="amount" inputMode="decimal" value={amount} error={errors.fields.amount} onChange={(event) => setAmount(event.target.value)} />
            </div>
          </div>
          <TextField
            label="External reference"
            name="reference"
            hint="The bank's or the chain's id of the transfer: each is credited once."
            value={reference}
            error={errors.fields.reference}
            onChange={(event) => setReference(event.target.value)}
          />
          <ErrorLines lines={errors.form} requestId={deposit.error?.requestId} />
          <div>
            <Button type="submit" disabled={deposit.isPending || amount.trim() === "" || reference.trim() === ""}>
              Credit deposit
            </Button>
          </div>
          {receipt ? (
            <p role="status" className={css({ fontSize: "sm" })}>
              {receipt}
            </p>
          ) : null}
        </form>
      ) : null}
    </Card>
  );
}
