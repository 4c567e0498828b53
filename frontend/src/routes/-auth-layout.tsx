import type { ReactNode } from "react";
import { css } from "styled-system/css";

/** The frame of the signed-out pages (sign in, sign up). */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className={css({ minHeight: "100vh", display: "grid", placeItems: "center", p: "4" })}>
      <div className={css({ width: "full", maxWidth: "sm", bg: "bg.surface", borderWidth: "1px", borderColor: "border.default", borderRadius: "xl", p: "8" })}>
        <p className={css({ fontWeight: "bold", letterSpacing: "wide", color: "accent.text", mb: "2" })}>Tessera</p>
        <h1 className={css({ fontSize: "2xl", fontWeight: "bold", mb: "6" })}>{title}</h1>
        {children}
      </div>
    </main>
  );
}
