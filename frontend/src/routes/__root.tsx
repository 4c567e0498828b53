import { createRootRouteWithContext, Link, Outlet } from "@tanstack/react-router";
import { css } from "styled-system/css";

import { AppToaster } from "../components/toaster";
import { ErrorNotice } from "../components/ui";
import type { RouterContext } from "../router";

export const Route = createRootRouteWithContext<RouterContext>()({
  component: () => (
    <>
      <Outlet />
      <AppToaster />
    </>
  ),
  notFoundComponent: () => (
    <main className={css({ p: "8" })}>
      <h1 className={css({ fontSize: "xl", fontWeight: "bold" })}>Page not found</h1>
      <Link to="/">Back to Tessera</Link>
    </main>
  ),
  errorComponent: ({ error }) => (
    <main className={css({ p: "8" })}>
      <h1 className={css({ fontSize: "xl", fontWeight: "bold", mb: "3" })}>Something went wrong</h1>
      <ErrorNotice error={error} />
    </main>
  ),
});
