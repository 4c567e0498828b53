import { useQuery, useQueryClient, useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute, redirect } from "@tanstack/react-router";
import { useState } from "react";
import { css, cx } from "styled-system/css";

import {
  getComplianceGetAlertQueryOptions,
  getComplianceListAlertsQueryKey,
  getComplianceListAlertsSuspenseQueryOptions,
  useComplianceAcknowledgeAlert,
  useComplianceResolveAlert,
} from "../../api/generated/compliance/compliance";
import { ComplianceListAlertsKind, ComplianceListAlertsStatus, type Alert, type ComplianceListAlertsParams, type WithdrawalForReview } from "../../api/generated/model";
import {
  getWalletsListWithdrawalsForReviewQueryKey,
  getWalletsListWithdrawalsForReviewSuspenseQueryOptions,
  useWalletsApproveWithdrawal,
  useWalletsRejectWithdrawal,
} from "../../api/generated/wallets/wallets";
import { toaster } from "../../components/toaster";
import { Button, Card, ErrorNotice, PageTitle, rowInputClass, SelectField, tableClass } from "../../components/ui";
import { chainName } from "../../lib/chains";
import { formatDecimal } from "../../lib/decimal";
import { COMPLIANCE_ROLES, hasRole } from "../../lib/session";
import { AuditLog } from "./-components/AuditLog";
import { travelRuleName } from "./-components/travelRule";

/** The alert filters, kept in the URL so a filtered list can be shared and survives a reload. */
interface AlertSearch {
  status?: ComplianceListAlertsStatus | "any";
  kind?: ComplianceListAlertsKind;
}

function oneOf<T extends string>(value: unknown, allowed: Record<string, T>): T | undefined {
  return Object.values(allowed).find((candidate) => candidate === value);
}

/** The list's query: open alerts unless the officer asks for another status (or any). */
function alertParams({ status, kind }: AlertSearch): ComplianceListAlertsParams {
  return { ...(status === "any" ? {} : { status: status ?? "open" }), ...(kind ? { kind } : {}) };
}

const REVIEW_QUEUE = { status: "pending_review" } as const;

export const Route = createFileRoute("/_app/compliance")({
  // Role guard: traders never see this page (the API refuses them too).
  beforeLoad: ({ context }) => {
    if (!hasRole(context.me, COMPLIANCE_ROLES)) throw redirect({ to: "/markets" });
  },
  validateSearch: (search: Record<string, unknown>): AlertSearch => {
    const status = search.status === "any" ? "any" : oneOf(search.status, ComplianceListAlertsStatus);
    const kind = oneOf(search.kind, ComplianceListAlertsKind);
    return { ...(status ? { status } : {}), ...(kind ? { kind } : {}) };
  },
  loaderDeps: ({ search }) => alertParams(search),
  loader: ({ context: { queryClient }, deps }) =>
    Promise.all([
      queryClient.ensureQueryData(getComplianceListAlertsSuspenseQueryOptions(deps)),
      queryClient.ensureQueryData(getWalletsListWithdrawalsForReviewSuspenseQueryOptions(REVIEW_QUEUE)),
    ]),
  component: CompliancePage,
});

const words = (value: string) => value.replace(/_/g, " ");

function CompliancePage() {
  return (
    <>
      <PageTitle>Compliance</PageTitle>
      <div className={css({ display: "flex", flexDirection: "column", gap: "4" })}>
        <ReviewQueue />
        <Alerts />
        <AuditLog />
      </div>
    </>
  );
}

function ReviewQueue() {
  const { data } = useSuspenseQuery(getWalletsListWithdrawalsForReviewSuspenseQueryOptions(REVIEW_QUEUE));
  return (
    <Card title={`Withdrawal review queue (${data.items.length})`}>
      {data.items.length === 0 ? (
        <p className={css({ color: "fg.muted", fontSize: "sm" })}>No withdrawals are waiting for review.</p>
      ) : (
        <div className={css({ overflowX: "auto" })}>
          <table className={tableClass} aria-label="Withdrawals waiting for review">
            <thead>
              <tr>
                <th>Requested</th>
                <th className="num">Amount</th>
                <th>Chain and destination</th>
                <th>Travel rule</th>
                <th>Why review</th>
                <th>Decision</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((item) => (
                <ReviewRow key={item.id} item={item} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function ReviewRow({ item }: { item: WithdrawalForReview }) {
  const queryClient = useQueryClient();
  const approve = useWalletsApproveWithdrawal();
  const reject = useWalletsRejectWithdrawal();
  const [comment, setComment] = useState("");
  const busy = approve.isPending || reject.isPending;

  async function decide(decision: "approve" | "reject") {
    const mutation = decision === "approve" ? approve : reject;
    try {
      const decided = await mutation.mutateAsync({ withdrawalId: item.id, data: { comment: comment.trim() } });
      toaster.create({ type: "success", title: `Withdrawal ${decided.id} ${decided.status}`, description: comment.trim() });
    } catch {
      return; // shown in the row
    } finally {
      await queryClient.invalidateQueries({ queryKey: getWalletsListWithdrawalsForReviewQueryKey() });
    }
  }

  const originator = travelRuleName(item.travel_rule, "originator");
  const beneficiary = travelRuleName(item.travel_rule, "beneficiary");
  return (
    <tr>
      <td>{new Date(item.created_at).toLocaleString()}</td>
      <td className="num">
        {formatDecimal(item.amount)} {item.asset}
      </td>
      <td>
        <div>{chainName(item.chain_id)}</div>
        <div className={css({ fontFamily: "mono", fontSize: "xs", wordBreak: "break-all" })}>{item.destination}</div>
      </td>
      <td className={css({ fontSize: "xs" })}>
        {item.travel_rule === null ? (
          "erased"
        ) : (
          <>
            <div>From: {originator ?? "—"}</div>
            <div>To: {beneficiary ?? "—"}</div>
          </>
        )}
      </td>
      <td>{item.review_reasons.map(words).join(", ")}</td>
      <td>
        <div className={css({ display: "flex", gap: "2", alignItems: "center", flexWrap: "wrap" })}>
          <input
            aria-label={`Decision comment for withdrawal ${item.id}`}
            placeholder="Comment"
            value={comment}
            onChange={(event) => setComment(event.target.value)}
            className={cx(rowInputClass, css({ minWidth: "40" }))}
          />
          <Button disabled={busy || comment.trim() === ""} onClick={() => void decide("approve")}>
            Approve
          </Button>
          <Button variant="sell" disabled={busy || comment.trim() === ""} onClick={() => void decide("reject")}>
            Reject
          </Button>
        </div>
        <ErrorNotice error={approve.error ?? reject.error} />
      </td>
    </tr>
  );
}

function Alerts() {
  const search = Route.useSearch();
  const navigate = Route.useNavigate();
  const params = alertParams(search);
  const { data } = useSuspenseQuery(getComplianceListAlertsSuspenseQueryOptions(params));
  const setFilter = (patch: AlertSearch) => void navigate({ search: (current) => ({ ...current, ...patch }), replace: true });
  return (
    <Card title={`Alerts (${data.items.length})`}>
      <div role="group" aria-label="Alert filters" className={css({ display: "flex", gap: "3", mb: "3", maxWidth: "md" })}>
        <SelectField
          label="Status"
          name="status"
          value={search.status ?? "open"}
          onChange={(event) => setFilter({ status: event.target.value === "any" ? "any" : oneOf(event.target.value, ComplianceListAlertsStatus) })}
          options={[...Object.values(ComplianceListAlertsStatus).map((status) => ({ value: status, label: words(status) })), { value: "any", label: "any status" }]}
        />
        <SelectField
          label="Kind"
          name="kind"
          value={search.kind ?? ""}
          onChange={(event) => setFilter({ kind: oneOf(event.target.value, ComplianceListAlertsKind) })}
          options={[{ value: "", label: "any kind" }, ...Object.values(ComplianceListAlertsKind).map((kind) => ({ value: kind, label: words(kind) }))]}
        />
      </div>
      {data.items.length === 0 ? (
        <p className={css({ color: "fg.muted", fontSize: "sm" })}>No alerts match.</p>
      ) : (
        <div className={css({ overflowX: "auto" })}>
          <table className={tableClass} aria-label="Alerts">
            <thead>
              <tr>
                <th>Detected</th>
                <th>Kind</th>
                <th>Market</th>
                <th>Severity</th>
                <th>Summary</th>
                <th>Status</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((alert) => (
                <AlertRow key={alert.id} alert={alert} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function AlertRow({ alert }: { alert: Alert }) {
  const queryClient = useQueryClient();
  const acknowledge = useComplianceAcknowledgeAlert();
  const resolve = useComplianceResolveAlert();
  const [comment, setComment] = useState("");
  const [showEvidence, setShowEvidence] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: getComplianceListAlertsQueryKey() });
  return (
    <>
      <tr>
        <td>{new Date(alert.detected_at).toLocaleString()}</td>
        <td>{words(alert.kind)}</td>
        <td>{alert.symbol}</td>
        <td>{alert.severity}</td>
        <td>{alert.summary}</td>
        <td>{alert.status}</td>
        <td>
          <div className={css({ display: "flex", gap: "2", alignItems: "center", flexWrap: "wrap" })}>
            <Button variant="ghost" aria-expanded={showEvidence} onClick={() => setShowEvidence(!showEvidence)}>
              Evidence
            </Button>
            {alert.status === "open" ? (
              <Button variant="secondary" onClick={() => void acknowledge.mutateAsync({ alertId: alert.id }).then(refresh, refresh)}>
                Acknowledge
              </Button>
            ) : null}
            {alert.status !== "resolved" ? (
              <>
                <input
                  aria-label={`Resolution comment for alert ${alert.id}`}
                  placeholder="Comment"
                  value={comment}
                  onChange={(event) => setComment(event.target.value)}
                  className={rowInputClass}
                />
                <Button disabled={comment.trim() === "" || resolve.isPending} onClick={() => void resolve.mutateAsync({ alertId: alert.id, data: { comment: comment.trim() } }).then(refresh, refresh)}>
                  Resolve
                </Button>
              </>
            ) : (
              <span className={css({ fontSize: "xs", color: "fg.muted" })}>{alert.resolution_comment}</span>
            )}
          </div>
          <ErrorNotice error={acknowledge.error ?? resolve.error} />
        </td>
      </tr>
      {showEvidence ? (
        <tr>
          <td colSpan={7}>
            <AlertEvidence alertId={alert.id} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function AlertEvidence({ alertId }: { alertId: number }) {
  const detail = useQuery(getComplianceGetAlertQueryOptions(alertId));
  if (detail.error) return <ErrorNotice error={detail.error} />;
  if (!detail.data) return <p className={css({ fontSize: "sm", color: "fg.muted" })}>Loading evidence…</p>;
  return (
    <dl aria-label={`Evidence for alert ${alertId}`} className={css({ display: "grid", gridTemplateColumns: "max-content 1fr", gap: "1 4", fontSize: "xs" })}>
      <dt>Accounts</dt>
      <dd className={css({ fontFamily: "mono" })}>{detail.data.accounts.join(", ")}</dd>
      <dt>Window</dt>
      <dd>
        {new Date(detail.data.window_start).toLocaleString()} – {new Date(detail.data.window_end).toLocaleString()}
      </dd>
      {Object.entries(detail.data.evidence).map(([key, value]) => (
        <Evidence key={key} name={key} value={value} />
      ))}
    </dl>
  );
}

function Evidence({ name, value }: { name: string; value: unknown }) {
  return (
    <>
      <dt>{words(name)}</dt>
      <dd>
        {typeof value === "object" && value !== null ? (
          <pre className={css({ fontFamily: "mono", whiteSpace: "pre-wrap", wordBreak: "break-all", m: "0" })}>{JSON.stringify(value, null, 2)}</pre>
        ) : (
          String(value)
        )}
      </dd>
    </>
  );
}
