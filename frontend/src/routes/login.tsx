import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, redirect, useNavigate } from "@tanstack/react-router";
import { useState, type SyntheticEvent } from "react";
import { css } from "styled-system/css";

import { getAuthMeQueryKey, useAuthLogin } from "../api/generated/auth/auth";
import { isProblemError } from "../api/problem";
import { Button, ErrorNotice, TextField } from "../components/ui";
import { liveSocket } from "../lib/live";
import { loadSession } from "../lib/session";
import { AuthLayout } from "./-auth-layout";

interface LoginSearch {
  redirect?: string;
}

export const Route = createFileRoute("/login")({
  validateSearch: (search: Record<string, unknown>): LoginSearch =>
    typeof search.redirect === "string" && search.redirect.startsWith("/") ? { redirect: search.redirect } : {},
  beforeLoad: async ({ context }) => {
    if (await loadSession(context.queryClient)) throw redirect({ to: "/markets" });
  },
  component: LoginPage,
});

const TOTP_PROBLEMS = new Set(["totp-required", "totp-invalid"]);

function LoginPage() {
  const search = Route.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const login = useAuthLogin();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  // The second step appears when the API says this account needs a code.
  const [needsTotp, setNeedsTotp] = useState(false);

  const error = login.error;
  const fields = isProblemError(error) ? error.fieldErrors : {};
  const totpError = isProblemError(error) && error.slug === "totp-invalid" ? error.message : fields.totp;

  async function onSubmit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    try {
      await login.mutateAsync({ data: { email, password, ...(needsTotp ? { totp } : {}) } });
    } catch (failure) {
      if (isProblemError(failure) && TOTP_PROBLEMS.has(failure.slug)) setNeedsTotp(true);
      return;
    }
    await queryClient.invalidateQueries({ queryKey: getAuthMeQueryKey() });
    // The socket authenticates with the new session cookie for the private channels.
    liveSocket().reconnect();
    await navigate({ to: search.redirect ?? "/markets" });
  }

  const showGeneralError = error && !(isProblemError(error) && (error.slug === "totp-required" || (needsTotp && error.slug === "totp-invalid")));

  return (
    <AuthLayout title={needsTotp ? "Two-factor code" : "Sign in"}>
      <form onSubmit={(event) => void onSubmit(event)} className={css({ display: "flex", flexDirection: "column", gap: "4" })} noValidate>
        {needsTotp ? (
          <TextField
            label="Code from your authenticator app"
            name="totp"
            inputMode="numeric"
            autoComplete="one-time-code"
            autoFocus
            value={totp}
            onChange={(event) => setTotp(event.target.value.trim())}
            error={totpError}
            hint="Or one of your unused recovery codes."
          />
        ) : (
          <>
            <TextField label="Email" name="email" type="email" autoComplete="username" required value={email} onChange={(event) => setEmail(event.target.value)} error={fields.email} />
            <TextField
              label="Password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              error={fields.password}
            />
          </>
        )}
        {showGeneralError ? <ErrorNotice error={error} /> : null}
        <Button type="submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : needsTotp ? "Verify" : "Sign in"}
        </Button>
        {needsTotp ? (
          <Button variant="ghost" onClick={() => setNeedsTotp(false)}>
            Back
          </Button>
        ) : (
          <p className={css({ fontSize: "sm", color: "fg.muted" })}>
            New to Tessera?{" "}
            <Link to="/signup" className={css({ color: "accent.text", textDecoration: "underline" })}>
              Create an account
            </Link>
          </p>
        )}
      </form>
    </AuthLayout>
  );
}
