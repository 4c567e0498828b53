import { QrCode } from "@ark-ui/react/qr-code";
import { useQueryClient, useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState, type SyntheticEvent } from "react";
import { css } from "styled-system/css";

import {
  getAuthListApiKeysQueryKey,
  getAuthListApiKeysSuspenseQueryOptions,
  getAuthMeQueryKey,
  useAuthCreateApiKey,
  useAuthEnrollTotp,
  useAuthRevokeApiKey,
  useAuthVerifyTotp,
} from "../../api/generated/auth/auth";
import type { ApiKeyCreateScopesItem } from "../../api/generated/model";
import { isProblemError } from "../../api/problem";
import { Button, Card, ErrorNotice, PageTitle, tableClass, TextField } from "../../components/ui";
import { prefetchKyc } from "./-components/kycForm";
import { KycSection } from "./-components/KycSection";

export const Route = createFileRoute("/_app/settings")({
  loader: ({ context: { queryClient } }) =>
    Promise.all([queryClient.ensureQueryData(getAuthListApiKeysSuspenseQueryOptions()), prefetchKyc(queryClient)]),
  component: SettingsPage,
});

function SettingsPage() {
  const { me } = Route.useRouteContext();
  return (
    <>
      <PageTitle>Settings</PageTitle>
      <div className={css({ display: "grid", gap: "4", gridTemplateColumns: { base: "1fr", lg: "1fr 1fr" } })}>
        <TwoFactorCard enabled={me.totp_enabled} />
        <ApiKeysCard needsTotp={me.totp_enabled} />
        <KycSection className={css({ gridColumn: "1 / -1" })} />
      </div>
    </>
  );
}

function TwoFactorCard({ enabled }: { enabled: boolean }) {
  const queryClient = useQueryClient();
  const enroll = useAuthEnrollTotp();
  const verify = useAuthVerifyTotp();
  const [code, setCode] = useState("");

  async function onVerify(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    await verify.mutateAsync({ data: { code } }).catch(() => undefined);
    await queryClient.invalidateQueries({ queryKey: getAuthMeQueryKey() });
  }

  if (verify.data) {
    return (
      <Card title="Two-factor authentication">
        <p className={css({ mb: "2" })}>Two-factor authentication is on. Keep these recovery codes somewhere safe; each works once and they are shown only now.</p>
        <ul className={css({ fontFamily: "mono", columns: 2 })}>
          {verify.data.recovery_codes.map((recovery) => (
            <li key={recovery}>{recovery}</li>
          ))}
        </ul>
      </Card>
    );
  }
  if (enabled) {
    return (
      <Card title="Two-factor authentication">
        <p>On. Signing in and creating API keys ask for a code from your authenticator app.</p>
      </Card>
    );
  }
  return (
    <Card title="Two-factor authentication">
      {enroll.data ? (
        <form onSubmit={(event) => void onVerify(event)} className={css({ display: "flex", flexDirection: "column", gap: "3" })}>
          <p>Scan this code with your authenticator app, then enter the code it shows.</p>
          <QrCode.Root value={enroll.data.otpauth_uri} encoding={{ ecc: "M" }} className={css({ width: "48", height: "48", bg: "white", p: "2" })}>
            <QrCode.Frame aria-label="QR code for your authenticator app">
              <QrCode.Pattern />
            </QrCode.Frame>
          </QrCode.Root>
          <p className={css({ fontSize: "xs", color: "fg.muted" })}>
            Or type this key: <code>{enroll.data.secret}</code>
          </p>
          <TextField label="Code" name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(event) => setCode(event.target.value.trim())} error={isProblemError(verify.error) ? verify.error.message : undefined} />
          <Button type="submit" disabled={verify.isPending}>
            Turn on
          </Button>
        </form>
      ) : (
        <>
          <p className={css({ mb: "3" })}>Protect sign-in and withdrawals with a code from an authenticator app.</p>
          <ErrorNotice error={enroll.error} />
          <Button onClick={() => enroll.mutate()} disabled={enroll.isPending}>
            Set up two-factor authentication
          </Button>
        </>
      )}
    </Card>
  );
}

function ApiKeysCard({ needsTotp }: { needsTotp: boolean }) {
  const queryClient = useQueryClient();
  const { data } = useSuspenseQuery(getAuthListApiKeysSuspenseQueryOptions());
  const create = useAuthCreateApiKey();
  const revoke = useAuthRevokeApiKey();
  const [name, setName] = useState("");
  const [trade, setTrade] = useState(false);
  const [totp, setTotp] = useState("");
  const refresh = () => queryClient.invalidateQueries({ queryKey: getAuthListApiKeysQueryKey() });
  const fields = isProblemError(create.error) ? create.error.fieldErrors : {};

  async function onCreate(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    const scopes: ApiKeyCreateScopesItem[] = trade ? ["read", "trade"] : ["read"];
    await create.mutateAsync({ data: { name, scopes, ...(needsTotp ? { totp } : {}) } }).catch(() => undefined);
    setName("");
    await refresh();
  }

  return (
    <Card title="API keys">
      {create.data ? (
        <div role="status" className={css({ mb: "3", p: "3", bg: "bg.muted", borderRadius: "md", fontSize: "sm" })}>
          New key (shown once): <code className={css({ wordBreak: "break-all" })}>{create.data.key}</code>
        </div>
      ) : null}
      <form onSubmit={(event) => void onCreate(event)} className={css({ display: "flex", flexDirection: "column", gap: "3", mb: "4" })}>
        <TextField label="Key name" name="name" value={name} onChange={(event) => setName(event.target.value)} error={fields.name} />
        <label className={css({ display: "flex", gap: "2", fontSize: "sm" })}>
          <input type="checkbox" checked={trade} onChange={(event) => setTrade(event.target.checked)} />
          Allow trading (keys can never withdraw)
        </label>
        {needsTotp ? <TextField label="Two-factor code" name="totp" inputMode="numeric" value={totp} onChange={(event) => setTotp(event.target.value.trim())} error={fields.totp} /> : null}
        {create.error && Object.keys(fields).length === 0 ? <ErrorNotice error={create.error} /> : null}
        <Button type="submit" disabled={create.isPending || name.trim() === ""}>
          Create key
        </Button>
      </form>
      <table className={tableClass} aria-label="API keys">
        <thead>
          <tr>
            <th>Name</th>
            <th>Prefix</th>
            <th>Scopes</th>
            <th>Last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data.items.map((key) => (
            <tr key={key.id}>
              <td>{key.name}</td>
              <td>
                <code>{key.prefix}</code>
              </td>
              <td>{key.scopes.join(", ")}</td>
              <td>{key.last_used_at ? new Date(key.last_used_at).toLocaleString() : "never"}</td>
              <td>
                {key.revoked_at ? (
                  "revoked"
                ) : (
                  <Button variant="secondary" onClick={() => void revoke.mutateAsync({ keyId: key.id }).then(refresh)}>
                    Revoke
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
