/**
 * Who is signed in. Sign-in goes through the generated `authLogin`: a `totp-required` problem moves the
 * form to its second step; the tokens it returns go to the token store, which the fetcher and the live
 * socket read. With biometric unlock on, a stored session starts locked until the prompt succeeds.
 */
import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { authLogin, authLogout } from "../api/generated/auth/auth";
import { readTokens, writeTokens, onTokensChange } from "../api/tokenStore";
import { biometricsAvailable, biometricUnlockEnabled, promptBiometricUnlock } from "./biometrics";
import { liveSocket } from "./live";

export type SessionStatus = "loading" | "signed-out" | "locked" | "signed-in";

export interface Credentials {
  email: string;
  password: string;
  totp?: string;
}

interface SessionValue {
  status: SessionStatus;
  signIn(credentials: Credentials): Promise<void>;
  signOut(): Promise<void>;
  unlock(): Promise<boolean>;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);

async function initialStatus(): Promise<SessionStatus> {
  if ((await readTokens()) === null) return "signed-out";
  return (await biometricUnlockEnabled()) && (await biometricsAvailable()) ? "locked" : "signed-in";
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<SessionStatus>("loading");

  useEffect(() => {
    let active = true;
    void initialStatus().then((next) => active && setStatus(next));
    // A refused refresh clears the tokens: follow it to the sign-in screen.
    const stop = onTokensChange(() => {
      void readTokens().then((tokens) => {
        if (tokens === null) setStatus("signed-out");
      });
    });
    return () => {
      active = false;
      stop();
    };
  }, []);

  const signIn = useCallback(
    async ({ email, password, totp }: Credentials) => {
      const pair = await authLogin({ email, password, ...(totp === undefined ? {} : { totp }) });
      await writeTokens({ accessToken: pair.access_token, refreshToken: pair.refresh_token });
      queryClient.clear();
      setStatus("signed-in");
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    try {
      await authLogout();
    } catch {
      // The server session may already be gone; this device forgets it either way.
    }
    liveSocket().close();
    await writeTokens(null);
    queryClient.clear();
    setStatus("signed-out");
  }, [queryClient]);

  const unlock = useCallback(async () => {
    const ok = await promptBiometricUnlock();
    if (ok) setStatus("signed-in");
    return ok;
  }, []);

  const value = useMemo(() => ({ status, signIn, signOut, unlock }), [status, signIn, signOut, unlock]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (value === undefined) throw new Error("useSession needs a SessionProvider");
  return value;
}
