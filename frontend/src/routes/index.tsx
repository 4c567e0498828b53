import { createFileRoute, redirect } from "@tanstack/react-router";

import { loadSession } from "../lib/session";

export const Route = createFileRoute("/")({
  beforeLoad: async ({ context }) => {
    const me = await loadSession(context.queryClient);
    throw redirect({ to: me ? "/markets" : "/login" });
  },
});
