import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react-native";
import { Text } from "react-native";

import { currentTokens, writeTokens } from "../api/tokenStore";
import { SessionProvider, useSession } from "../lib/session";
import { SignInForm } from "./SignInForm";

/** RFC 9457 answers shaped like the API's to `POST /api/v1/auth/login` (the real flow runs in e2e/). */
function problem(status: number, slug: string, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: `urn:tessera:problem:${slug}`, title, status, detail, instance: "/api/v1/auth/login" }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

const TOKENS = { access_token: "access-1", refresh_token: "refresh-1", token_type: "bearer", expires_in: 900 };

beforeEach(async () => {
  await writeTokens(null);
});

function Harness() {
  const session = useSession();
  return session.status === "signed-in" ? <Text>Signed in</Text> : <SignInForm onSignIn={session.signIn} />;
}

test("a password answered with totp-required moves to the code step; a wrong code says so; the right one signs in", async () => {
  const requests: { url: string; body: Record<string, unknown> }[] = [];
  const fetchMock = jest.fn(async (url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    requests.push({ url, body });
    if (body.totp === undefined) return problem(401, "totp-required", "Two-Factor Code Required", "This account needs its two-factor code.");
    if (body.totp !== "123456") return problem(401, "totp-invalid", "Two-Factor Code Invalid", "That code is not valid; codes change every 30 seconds.");
    return new Response(JSON.stringify(TOKENS), { status: 200, headers: { "content-type": "application/json" } });
  });
  globalThis.fetch = fetchMock as unknown as typeof fetch;

  render(
    <QueryClientProvider client={new QueryClient()}>
      <SessionProvider>
        <Harness />
      </SessionProvider>
    </QueryClientProvider>,
  );

  fireEvent.changeText(await screen.findByLabelText("Email"), "ada@demo.tessera.test");
  fireEvent.changeText(screen.getByLabelText("Password"), "Tessera-demo-pass-1");
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));

  const code = await screen.findByLabelText("Authentication code");
  expect(requests).toHaveLength(1);
  expect(requests[0]).toEqual({
    url: expect.stringMatching(/\/api\/v1\/auth\/login$/),
    body: { email: "ada@demo.tessera.test", password: "Tessera-demo-pass-1" },
  });
  expect(screen.queryByText(/Two-Factor Code Required|needs its two-factor code/)).toBeNull();

  fireEvent.changeText(code, "654321");
  fireEvent.press(screen.getByRole("button", { name: "Verify" }));
  expect(await screen.findByText("That code is not valid; codes change every 30 seconds.")).toBeOnTheScreen();
  expect(currentTokens() ?? null).toBeNull();

  fireEvent.changeText(screen.getByLabelText("Authentication code"), " 123456 ");
  fireEvent.press(screen.getByRole("button", { name: "Verify" }));
  expect(await screen.findByText("Signed in")).toBeOnTheScreen();
  expect(requests.at(-1)?.body).toEqual({ email: "ada@demo.tessera.test", password: "Tessera-demo-pass-1", totp: "123456" });
  await waitFor(() => expect(currentTokens()).toEqual({ accessToken: "access-1", refreshToken: "refresh-1" }));
});

test("wrong credentials stay on the password step with the API's message", async () => {
  globalThis.fetch = jest.fn(async () =>
    problem(401, "invalid-credentials", "Invalid Credentials", "Wrong email or password."),
  ) as unknown as typeof fetch;
  render(
    <QueryClientProvider client={new QueryClient()}>
      <SessionProvider>
        <Harness />
      </SessionProvider>
    </QueryClientProvider>,
  );
  fireEvent.changeText(await screen.findByLabelText("Email"), "ada@demo.tessera.test");
  fireEvent.changeText(screen.getByLabelText("Password"), "nope");
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  expect(await screen.findByText("Wrong email or password.")).toBeOnTheScreen();
  expect(screen.queryByLabelText("Authentication code")).toBeNull();
});
