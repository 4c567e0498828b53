import { useQuery, useQueryClient, useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute, Link } from "@tanstack/react-router";
import { useEffect, useId, useState, type ChangeEvent, type SyntheticEvent } from "react";
import { css } from "styled-system/css";

import { getComplianceGetKycQueryKey } from "../../api/generated/compliance/compliance";
import { getLedgerListBalancesQueryKey, getLedgerListBalancesQueryOptions } from "../../api/generated/ledger/ledger";
import type { Withdrawal, WithdrawalRoute } from "../../api/generated/model";
import {
  getWalletsListWithdrawalRoutesSuspenseQueryOptions,
  getWalletsListWithdrawalsQueryKey,
  getWalletsListWithdrawalsSuspenseQueryOptions,
  useWalletsRequestWithdrawal,
} from "../../api/generated/wallets/wallets";
import { toaster } from "../../components/toaster";
import { Button, Card, ErrorLines, Fieldset, PageTitle, SelectField, tableClass, TextField } from "../../components/ui";
import { chainName } from "../../lib/chains";
import { formatDecimal } from "../../lib/decimal";
import { isKycMissing, KYC_SECTION_ID, kycQueryOptions, prefetchKyc } from "./-components/kycForm";
import { withdrawalBody, withdrawalErrors, type WithdrawalForm } from "./-components/withdrawalForm";
import { FINAL_WITHDRAWAL_STATUSES, WithdrawalStatusBadge } from "./-components/WithdrawalStatusBadge";

export const Route = createFileRoute("/_app/withdrawals")({
  loader: ({ context: { queryClient } }) =>
    Promise.all([
      queryClient.ensureQueryData(getWalletsListWithdrawalRoutesSuspenseQueryOptions()),
      queryClient.ensureQueryData(getWalletsListWithdrawalsSuspenseQueryOptions()),
      prefetchKyc(queryClient),
    ]),
  component: WithdrawalsPage,
});

const REVIEW_REASONS: Record<string, string> = {
  amount_threshold: "large amount",
  new_destination: "new destination",
  sanctions_list: "sanctions list",
  open_alert: "open alert",
};

/** Unfinished withdrawals move on without the trader: their history is polled until they settle. */
const HISTORY_POLL_MS = 5_000;

function WithdrawalsPage() {
  const { me } = Route.useRouteContext();
  const { data: routes } = useSuspenseQuery(getWalletsListWithdrawalRoutesSuspenseQueryOptions());
  const [firstRoute] = routes;
  const { data: history } = useSuspenseQuery({
    ...getWalletsListWithdrawalsSuspenseQueryOptions(),
    refetchInterval: (query) => (query.state.data?.items.some((item) => !FINAL_WITHDRAWAL_STATUSES.has(item.status)) ? HISTORY_POLL_MS : false),
  });
  // A withdrawal that settles (a rejection or failure gives its hold back) has no live balance event.
  const queryClient = useQueryClient();
  const settled = history.items.filter((item) => FINAL_WITHDRAWAL_STATUSES.has(item.status)).length;
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: getLedgerListBalancesQueryKey() });
  }, [queryClient, settled]);
  const kyc = useQuery(kycQueryOptions());
  return (
    <>
      <PageTitle>Withdrawals</PageTitle>
      {isKycMissing(kyc.error) ? <KycNeeded /> : null}
      <div className={css({ display: "grid", gap: "4", gridTemplateColumns: { base: "1fr", lg: "420px minmax(0,1fr)" }, alignItems: "start" })}>
        <Card title="New withdrawal">
          {firstRoute === undefined ? (
            <p className={css({ color: "fg.muted", fontSize: "sm" })}>Withdrawals are not offered at the moment.</p>
          ) : (
            <NewWithdrawal routes={routes} firstRoute={firstRoute} totpEnabled={me.totp_enabled} />
          )}
        </Card>
        <Card title="History">
          <WithdrawalHistory items={history.items} />
        </Card>
      </div>
    </>
  );
}

/** The API refuses withdrawals until the trader's identity (the travel rule's originator) is on file. */
function KycNeeded() {
  const titleId = useId();
  return (
    <div role="note" aria-labelledby={titleId} className={css({ mb: "4", p: "3", bg: "bg.surface", borderWidth: "1px", borderColor: "warning", borderLeftWidth: "4px", borderRadius: "md", fontSize: "sm" })}>
      <p id={titleId} className={css({ fontWeight: "semibold", color: "warning", mb: "1" })}>
        Your identity (KYC) is needed before you can withdraw
      </p>
      <p>
        The travel rule has every withdrawal name its sender, so Tessera needs your legal name and an address, an identity document or your date and place of birth. Add them once in{" "}
        <Link to="/settings" hash={KYC_SECTION_ID} className={css({ textDecoration: "underline", fontWeight: "medium" })}>
          Settings › Identity (KYC)
        </Link>
        .
      </p>
    </div>
  );
}

function emptyForm(route: WithdrawalRoute): WithdrawalForm {
  return { asset: route.asset, chainId: String(route.chain_id), amount: "", destination: "", lastName: "", firstName: "", country: "", totp: "" };
}

function NewWithdrawal({ routes, firstRoute, totpEnabled }: { routes: WithdrawalRoute[]; firstRoute: WithdrawalRoute; totpEnabled: boolean }) {
  const queryClient = useQueryClient();
  const request = useWalletsRequestWithdrawal();
  const balances = useQuery(getLedgerListBalancesQueryOptions());
  const [form, setForm] = useState<WithdrawalForm>(() => emptyForm(firstRoute));
  // A field's error from the last answer is hidden once the trader edits that field.
  const [edited, setEdited] = useState<ReadonlySet<keyof WithdrawalForm>>(new Set());
  const errors = withdrawalErrors(request.error);
  const errorFor = (key: keyof WithdrawalForm) => (edited.has(key) ? undefined : errors.fields[key]);

  const assets = [...new Set(routes.map((route) => route.asset))];
  const chains = routes.filter((route) => route.asset === form.asset);
  const route = chains.find((candidate) => String(candidate.chain_id) === form.chainId);
  const available = balances.data?.find((balance) => balance.asset === form.asset)?.available ?? "0";

  const change = (patch: Partial<WithdrawalForm>) => {
    setForm((current) => ({ ...current, ...patch }));
    setEdited((current) => new Set([...current, ...(Object.keys(patch) as (keyof WithdrawalForm)[])]));
  };
  const update = (key: keyof WithdrawalForm) => (event: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => change({ [key]: event.target.value });
  const onAsset = (event: ChangeEvent<HTMLSelectElement>) => {
    const first = routes.find((candidate) => candidate.asset === event.target.value);
    change({ asset: event.target.value, chainId: first ? String(first.chain_id) : "" });
  };

  async function onSubmit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    setEdited(new Set());
    try {
      const withdrawal = await request.mutateAsync({ data: withdrawalBody(form) });
      toaster.create({
        type: "success",
        title: withdrawal.status === "pending_review" ? "Withdrawal waiting for review" : "Withdrawal requested",
        description: `${formatDecimal(withdrawal.amount)} ${withdrawal.asset} to ${withdrawal.destination}`,
      });
      setForm(emptyForm(route ?? firstRoute));
    } catch (error) {
      // The identity may have gone since the page loaded: the notice follows the API's answer.
      if (isKycMissing(error)) await queryClient.invalidateQueries({ queryKey: getComplianceGetKycQueryKey() });
      return; // the problem is shown field by field below
    } finally {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: getWalletsListWithdrawalsQueryKey() }),
        queryClient.invalidateQueries({ queryKey: getLedgerListBalancesQueryKey() }),
      ]);
    }
  }

  return (
    <form aria-label="New withdrawal" onSubmit={(event) => void onSubmit(event)} noValidate className={css({ display: "flex", flexDirection: "column", gap: "3" })}>
      <div className={css({ display: "grid", gridTemplateColumns: "1fr 2fr", gap: "3" })}>
        <SelectField label="Asset" name="asset" value={form.asset} onChange={onAsset} error={errorFor("asset")} options={assets.map((asset) => ({ value: asset, label: asset }))} />
        <SelectField
          label="Chain"
          name="chain_id"
          value={form.chainId}
          onChange={update("chainId")}
          error={errorFor("chainId")}
          options={chains.map((candidate) => ({ value: String(candidate.chain_id), label: chainName(candidate.chain_id) }))}
        />
      </div>
      <TextField
        label="Amount"
        name="amount"
        inputMode="decimal"
        autoComplete="off"
        value={form.amount}
        onChange={update("amount")}
        error={errorFor("amount")}
        hint={`Available ${formatDecimal(available)} ${form.asset}${route ? `; a fee of ${formatDecimal(route.fee)} ${form.asset} is held with it` : ""}.`}
      />
      <TextField
        label="Destination address"
        name="destination"
        autoComplete="off"
        spellCheck={false}
        value={form.destination}
        onChange={update("destination")}
        error={errorFor("destination")}
        hint="The 0x address in its mixed-case (EIP-55) form; the checksum catches typos."
      />
      <Fieldset legend="Beneficiary (travel rule)" hint="The person who owns the destination address, as the travel rule (IVMS101) records them.">
        <TextField label="Last name" name="beneficiary_last_name" autoComplete="off" value={form.lastName} onChange={update("lastName")} error={errorFor("lastName")} hint="Legal name." />
        <TextField label="First names" name="beneficiary_first_name" autoComplete="off" value={form.firstName} onChange={update("firstName")} error={errorFor("firstName")} />
        <TextField
          label="Country of residence (optional)"
          name="beneficiary_country"
          autoComplete="off"
          maxLength={2}
          value={form.country}
          onChange={update("country")}
          error={errorFor("country")}
          hint="Two-letter code, e.g. GB."
        />
      </Fieldset>
      {totpEnabled ? (
        <TextField label="Two-factor code" name="totp" inputMode="numeric" autoComplete="one-time-code" value={form.totp} onChange={update("totp")} error={errorFor("totp")} />
      ) : (
        <p className={css({ fontSize: "sm", color: "warning" })}>
          Withdrawals need two-factor authentication: turn it on in{" "}
          <Link to="/settings" className={css({ textDecoration: "underline" })}>
            Settings
          </Link>
          .
        </p>
      )}
      <ErrorLines lines={errors.form} />
      <Button type="submit" disabled={request.isPending}>
        {request.isPending ? "Requesting…" : "Request withdrawal"}
      </Button>
    </form>
  );
}

function WithdrawalHistory({ items }: { items: Withdrawal[] }) {
  if (items.length === 0) return <p className={css({ color: "fg.muted", fontSize: "sm" })}>No withdrawals yet.</p>;
  return (
    <div className={css({ overflowX: "auto" })}>
      <table className={tableClass} aria-label="Withdrawal history">
        <thead>
          <tr>
            <th>Requested</th>
            <th className="num">Amount</th>
            <th>Chain</th>
            <th>Destination</th>
            <th>Status</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id}>
              <td>{new Date(item.created_at).toLocaleString()}</td>
              <td className="num">
                {formatDecimal(item.amount)} {item.asset}
              </td>
              <td>{chainName(item.chain_id)}</td>
              <td className={css({ fontFamily: "mono", fontSize: "xs", wordBreak: "break-all" })}>{item.destination}</td>
              <td>
                <WithdrawalStatusBadge status={item.status} />
              </td>
              <td className={css({ fontSize: "xs" })}>
                <WithdrawalDetails item={item} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function WithdrawalDetails({ item }: { item: Withdrawal }) {
  const lines: string[] = [`Fee ${formatDecimal(item.fee)} ${item.asset}`];
  if (item.status === "pending_review" && item.review_reasons.length > 0) lines.push(`Review: ${item.review_reasons.map((reason) => REVIEW_REASONS[reason] ?? reason).join(", ")}`);
  if (item.tx_hash) lines.push(`Tx ${item.tx_hash}`);
  if (item.failure_reason) lines.push(item.failure_reason);
  return (
    <>
      {lines.map((line) => (
        <div key={line} className={css({ wordBreak: "break-all" })}>
          {line}
        </div>
      ))}
    </>
  );
}
