import { useQueryClient, useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute, redirect } from "@tanstack/react-router";
import { useState } from "react";
import { css } from "styled-system/css";

import {
  getComplianceListAlertsQueryKey,
  getComplianceListAlertsSuspenseQueryOptions,
  useComplianceAcknowledgeAlert,
  useComplianceResolveAlert,
} from "../../api/generated/compliance/compliance";
import type { Alert } from "../../api/generated/model";
import { Button, Card, ErrorNotice, PageTitle, tableClass } from "../../components/ui";
import { COMPLIANCE_ROLES, hasRole } from "../../lib/session";

export const Route = createFileRoute("/_app/compliance")({
  // Role guard: traders never see this page (the API refuses them too).
  beforeLoad: ({ context }) => {
    if (!hasRole(context.me, COMPLIANCE_ROLES)) throw redirect({ to: "/markets" });
  },
  loader: ({ context: { queryClient } }) => queryClient.ensureQueryData(getComplianceListAlertsSuspenseQueryOptions({ status: "open" })),
  component: CompliancePage,
});

function CompliancePage() {
  const { data } = useSuspenseQuery(getComplianceListAlertsSuspenseQueryOptions({ status: "open" }));
  return (
    <>
      <PageTitle>Compliance</PageTitle>
      <div className={css({ display: "flex", flexDirection: "column", gap: "4" })}>
        <Card title={`Open alerts (${data.items.length})`}>
          {data.items.length === 0 ? (
            <p className={css({ color: "fg.muted", fontSize: "sm" })}>Nothing to review.</p>
          ) : (
            <table className={tableClass}>
              <thead>
                <tr>
                  <th>Detected</th>
                  <th>Kind</th>
                  <th>Market</th>
                  <th>Severity</th>
                  <th>Summary</th>
                  <th>Status</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data.items.map((alert) => (
                  <AlertRow key={alert.id} alert={alert} />
                ))}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Withdrawal review queue">
          <p className={css({ color: "fg.muted", fontSize: "sm" })}>Withdrawals held for review appear here once the withdrawal service is live.</p>
        </Card>
      </div>
    </>
  );
}

function AlertRow({ alert }: { alert: Alert }) {
  const queryClient = useQueryClient();
  const acknowledge = useComplianceAcknowledgeAlert();
  const resolve = useComplianceResolveAlert();
  const [comment, setComment] = useState("");
  const refresh = () => queryClient.invalidateQueries({ queryKey: getComplianceListAlertsQueryKey() });
  return (
    <tr>
      <td>{new Date(alert.detected_at).toLocaleString()}</td>
      <td>{alert.kind}</td>
      <td>{alert.symbol}</td>
      <td>{alert.severity}</td>
      <td>{alert.summary}</td>
      <td>{alert.status}</td>
      <td>
        <div className={css({ display: "flex", gap: "2", alignItems: "center" })}>
          {alert.status === "open" ? (
            <Button variant="secondary" onClick={() => void acknowledge.mutateAsync({ alertId: alert.id }).then(refresh)}>
              Acknowledge
            </Button>
          ) : null}
          <input aria-label={`Resolution comment for alert ${alert.id}`} value={comment} onChange={(event) => setComment(event.target.value)} className={css({ borderWidth: "1px", borderColor: "border.default", borderRadius: "md", px: "2", py: "1", fontSize: "sm" })} />
          <Button disabled={comment.trim() === ""} onClick={() => void resolve.mutateAsync({ alertId: alert.id, data: { comment } }).then(refresh)}>
            Resolve
          </Button>
        </div>
        <ErrorNotice error={acknowledge.error ?? resolve.error} />
      </td>
    </tr>
  );
}
