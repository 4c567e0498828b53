import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, redirect, useNavigate } from "@tanstack/react-router";
import { useState, type SyntheticEvent } from "react";
import { css } from "styled-system/css";

import { authLogin, getAuthMeQueryKey, useAuthRegister } from "../api/generated/auth/auth";
import { isProblemError } from "../api/problem";
import { Button, ErrorNotice, TextField } from "../components/ui";
import { liveSocket } from "../lib/live";
import { loadSession } from "../lib/session";
import { AuthLayout } from "./-auth-layout";

export const Route = createFileRoute("/signup")({
  beforeLoad: async ({ context }) => {
    if (await loadSession(context.queryClient)) throw redirect({ to: "/markets" });
  },
  component: SignupPage,
});

function SignupPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const register = useAuthRegister();
  const [form, setForm] = useState({ email: "", password: "", display_name: "" });
  const fields = isProblemError(register.error) ? register.error.fieldErrors : {};

  async function onSubmit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    try {
      await register.mutateAsync({ data: form });
      // Registration does not start a session; sign in with the same credentials.
      await authLogin({ email: form.email, password: form.password });
    } catch {
      return;
    }
    await queryClient.invalidateQueries({ queryKey: getAuthMeQueryKey() });
    liveSocket().reconnect();
    await navigate({ to: "/markets" });
  }

  const update = (key: keyof typeof form) => (event: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [key]: event.target.value });
  const fieldKeys = new Set(Object.keys(fields));

  return (
    <AuthLayout title="Create your account">
      <form onSubmit={(event) => void onSubmit(event)} className={css({ display: "flex", flexDirection: "column", gap: "4" })} noValidate>
        <TextField label="Name" name="display_name" autoComplete="name" required value={form.display_name} onChange={update("display_name")} error={fields.display_name} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required value={form.email} onChange={update("email")} error={fields.email} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={form.password}
          onChange={update("password")}
          error={fields.password}
          hint="12 to 128 characters, not a common password."
        />
        {register.error && fieldKeys.size === 0 ? <ErrorNotice error={register.error} /> : null}
        <Button type="submit" disabled={register.isPending}>
          {register.isPending ? "Creating…" : "Create account"}
        </Button>
        <p className={css({ fontSize: "sm", color: "fg.muted" })}>
          Already registered?{" "}
          <Link to="/login" className={css({ color: "accent.text", textDecoration: "underline" })}>
            Sign in
          </Link>
        </p>
      </form>
    </AuthLayout>
  );
}
