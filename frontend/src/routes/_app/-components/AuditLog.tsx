import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type SyntheticEvent, useState } from "react";
import { css } from "styled-system/css";

import { getComplianceListAuditEntriesQueryOptions, getComplianceVerifyAuditQueryOptions } from "../../../api/generated/compliance/compliance";
import type { AuditEntry, ComplianceListAuditEntriesParams } from "../../../api/generated/model";
import { Button, Card, ErrorNotice, TextField, tableClass } from "../../../components/ui";

export const AUDIT_PAGE_SIZE = 25;

/** What the officer narrows the log to; empty inputs narrow nothing. */
export interface AuditFilters {
  action: string;
  subject: string;
}

/** The list's query for the filters and the page (`cursor`): blanks are left out, not sent empty. */
export function auditParams(filters: AuditFilters, cursor: string | undefined): ComplianceListAuditEntriesParams {
  const action = filters.action.trim();
  const subject = filters.subject.trim();
  return { limit: AUDIT_PAGE_SIZE, ...(action ? { action } : {}), ...(subject ? { subject } : {}), ...(cursor ? { cursor } : {}) };
}

const NO_FILTERS: AuditFilters = { action: "", subject: "" };

/**
 * The append-only audit log for compliance officers: newest first, narrowed by action prefix and subject,
 * paged older and newer; and a check of the whole hash chain (itself recorded in the log).
 */
export function AuditLog() {
  const [draft, setDraft] = useState<AuditFilters>(NO_FILTERS);
  const [filters, setFilters] = useState<AuditFilters>(NO_FILTERS);
  // The cursors of the pages walked so far; the last is the page shown (none: the newest page).
  const [cursors, setCursors] = useState<string[]>([]);
  const page = useQuery({ ...getComplianceListAuditEntriesQueryOptions(auditParams(filters, cursors.at(-1))), placeholderData: keepPreviousData });

  function apply(next: AuditFilters) {
    setDraft(next);
    setFilters(next);
    setCursors([]);
  }

  function submit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    apply(draft);
  }

  const nextCursor = page.data?.next_cursor;
  return (
    <Card title="Audit log" actions={<ChainCheck />}>
      <form role="search" aria-label="Audit log filters" onSubmit={submit} className={css({ display: "flex", gap: "3", alignItems: "flex-end", flexWrap: "wrap", mb: "3" })}>
        <div className={css({ width: "64" })}>
          <TextField label="Action starts with" name="action" placeholder="wallets.withdrawal." value={draft.action} onChange={(event) => setDraft({ ...draft, action: event.target.value })} />
        </div>
        <div className={css({ width: "64" })}>
          <TextField label="Subject" name="subject" placeholder="withdrawal:42" value={draft.subject} onChange={(event) => setDraft({ ...draft, subject: event.target.value })} />
        </div>
        <Button type="submit">Filter</Button>
        {filters.action || filters.subject ? (
          <Button variant="ghost" onClick={() => apply(NO_FILTERS)}>
            Clear
          </Button>
        ) : null}
      </form>
      {/* A refused filter: the API names the query parameter and why. */}
      <ErrorNotice error={page.error} />
      {page.data === undefined ? (
        page.isPending ? <p className={css({ color: "fg.muted", fontSize: "sm" })}>Loading the audit log…</p> : null
      ) : page.data.items.length === 0 ? (
        <p className={css({ color: "fg.muted", fontSize: "sm" })}>No entries match.</p>
      ) : (
        <div className={css({ overflowX: "auto" })}>
          <table className={tableClass} aria-label="Audit log entries">
            <thead>
              <tr>
                <th className="num">Entry</th>
                <th>Time</th>
                <th>Action</th>
                <th>Subject</th>
                <th>Actor</th>
                <th>Address</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((entry) => (
                <AuditRow key={entry.id} entry={entry} onSubject={(subject) => apply({ ...filters, subject })} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className={css({ display: "flex", gap: "2", mt: "3" })}>
        <Button variant="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </Button>
        <Button variant="secondary" disabled={!nextCursor || page.isPlaceholderData} onClick={() => nextCursor && setCursors([...cursors, nextCursor])}>
          Older
        </Button>
      </div>
    </Card>
  );
}

function AuditRow({ entry, onSubject }: { entry: AuditEntry; onSubject: (subject: string) => void }) {
  const { subject } = entry;
  return (
    <tr>
      <td className="num">{entry.id}</td>
      <td>{new Date(entry.occurred_at).toLocaleString()}</td>
      <td className={css({ fontFamily: "mono", fontSize: "xs" })}>{entry.action}</td>
      <td>
        {subject === null ? (
          "—"
        ) : (
          <Button variant="ghost" aria-label={`Show the trail of ${subject}`} className={css({ fontFamily: "mono", fontSize: "xs", px: "1", py: "0" })} onClick={() => onSubject(subject)}>
            {subject}
          </Button>
        )}
      </td>
      <td className={css({ fontFamily: "mono", fontSize: "xs", wordBreak: "break-all" })}>{entry.actor_id ?? "Tessera"}</td>
      <td className={css({ fontFamily: "mono", fontSize: "xs" })}>{entry.ip ?? "—"}</td>
      <td>
        <code className={css({ fontSize: "xs", wordBreak: "break-all" })}>{JSON.stringify(entry.details)}</code>
      </td>
    </tr>
  );
}

/** Recomputes the chain on request (it reads the whole log, so never on page load). */
function ChainCheck() {
  const check = useQuery({ ...getComplianceVerifyAuditQueryOptions(), enabled: false, gcTime: 0 });
  const result = check.data;
  return (
    <div className={css({ display: "flex", gap: "2", alignItems: "center", flexWrap: "wrap", justifyContent: "flex-end" })}>
      <span role="status" className={css({ fontSize: "sm" })}>
        {check.isFetching ? (
          "Checking the chain…"
        ) : result === undefined ? null : result.intact ? (
          <span className={css({ color: "success" })}>Chain intact: {result.entries} entries</span>
        ) : (
          <span className={css({ color: "danger", fontWeight: "semibold" })}>
            Chain broken at entry {result.first_broken_id ?? "?"}: {result.reason ?? "unknown reason"}
          </span>
        )}
      </span>
      <Button variant="secondary" disabled={check.isFetching} onClick={() => void check.refetch()}>
        Verify chain
      </Button>
      <ErrorNotice error={check.error} />
    </div>
  );
}
