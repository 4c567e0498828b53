import { Menu } from "@ark-ui/react/menu";
import { Portal } from "@ark-ui/react/portal";
import { useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, Outlet, redirect, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { css } from "styled-system/css";

import { authLogout } from "../api/generated/auth/auth";
import { LiveBadge } from "../components/LiveBadge";
import { getLedgerListBalancesQueryKey } from "../api/generated/ledger/ledger";
import { liveSocket, useLiveChannel } from "../lib/live";
import { ADMIN_ROLES, COMPLIANCE_ROLES, hasRole, loadSession } from "../lib/session";
import { preferredTheme, saveTheme, type Theme } from "../lib/theme";

// Every page behind sign-in lives under this layout; its guard runs before any child loader.
export const Route = createFileRoute("/_app")({
  beforeLoad: async ({ context, location }) => {
    const me = await loadSession(context.queryClient);
    if (me === null) throw redirect({ to: "/login", search: { redirect: location.href } });
    return { me };
  },
  component: AppLayout,
});

const navLink = css({
  px: "3",
  py: "2",
  borderRadius: "md",
  fontSize: "sm",
  color: "fg.muted",
  _hover: { color: "fg.default", bg: "bg.muted" },
  "&[data-status=active]": { color: "fg.default", fontWeight: "semibold", bg: "bg.muted" },
});

const menuItem = css({ px: "3", py: "2", cursor: "pointer", borderRadius: "sm", fontSize: "sm", _highlighted: { bg: "bg.muted" } });

function AppLayout() {
  const { me } = Route.useRouteContext();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [theme, setTheme] = useState<Theme>(preferredTheme);
  // Every signed-in page keeps the one connection open; balance changes refresh every view of them.
  useLiveChannel("balances", (message) => {
    if (message.kind === "frame") void queryClient.invalidateQueries({ queryKey: getLedgerListBalancesQueryKey() });
  });

  async function signOut() {
    try {
      await authLogout();
    } finally {
      liveSocket().close();
      queryClient.clear();
      await navigate({ to: "/login" });
    }
  }

  return (
    <div className={css({ minHeight: "100vh", display: "flex", flexDirection: "column" })}>
      <header className={css({ display: "flex", alignItems: "center", gap: "4", px: "4", py: "2", bg: "bg.surface", borderBottomWidth: "1px", borderColor: "border.default" })}>
        <Link to="/markets" className={css({ fontWeight: "bold", color: "accent.text" })}>
          Tessera
        </Link>
        <nav aria-label="Main" className={css({ display: "flex", gap: "1", flexWrap: "wrap", flex: "1" })}>
          <Link to="/markets" className={navLink}>Markets</Link>
          <Link to="/portfolio" className={navLink}>Portfolio</Link>
          <Link to="/withdrawals" className={navLink}>Withdrawals</Link>
          {hasRole(me, COMPLIANCE_ROLES) ? <Link to="/compliance" className={navLink}>Compliance</Link> : null}
          {hasRole(me, ADMIN_ROLES) ? <Link to="/admin" className={navLink}>Operations</Link> : null}
          <Link to="/settings" className={navLink}>Settings</Link>
        </nav>
        <LiveBadge />
        <Menu.Root
          onSelect={({ value }) => {
            if (value === "theme") {
              const next = theme === "dark" ? "light" : "dark";
              saveTheme(next);
              setTheme(next);
            } else if (value === "settings") void navigate({ to: "/settings" });
            else if (value === "sign-out") void signOut();
          }}
        >
          <Menu.Trigger className={css({ fontSize: "sm", px: "3", py: "1.5", borderRadius: "md", borderWidth: "1px", borderColor: "border.default", cursor: "pointer" })}>
            {me.display_name ?? me.email}
          </Menu.Trigger>
          <Portal>
            <Menu.Positioner>
              <Menu.Content className={css({ bg: "bg.surface", color: "fg.default", borderWidth: "1px", borderColor: "border.default", borderRadius: "md", p: "1", minWidth: "48", boxShadow: "md", outline: "none" })}>
                <Menu.Item value="settings" className={menuItem}>Settings</Menu.Item>
                <Menu.Item value="theme" className={menuItem}>{theme === "dark" ? "Light theme" : "Dark theme"}</Menu.Item>
                <Menu.Separator className={css({ borderColor: "border.default", my: "1" })} />
                <Menu.Item value="sign-out" className={menuItem}>Sign out</Menu.Item>
              </Menu.Content>
            </Menu.Positioner>
          </Portal>
        </Menu.Root>
      </header>
      <main className={css({ flex: "1", p: "4", maxWidth: "1400px", width: "full", mx: "auto" })}>
        <Outlet />
      </main>
    </div>
  );
}
