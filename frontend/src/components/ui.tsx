/** Small shared building blocks; styles come from PandaCSS semantic tokens only. */
import type { ComponentProps, ReactNode } from "react";
import { useId } from "react";
import { css, cx } from "styled-system/css";

import { isProblemError } from "../api/problem";

const buttonBase = css({
  display: "inline-flex",
  alignItems: "center",
  justifyContent: "center",
  gap: "2",
  px: "4",
  py: "2",
  borderRadius: "md",
  fontWeight: "semibold",
  fontSize: "sm",
  cursor: "pointer",
  borderWidth: "1px",
  borderColor: "transparent",
  _disabled: { opacity: 0.5, cursor: "not-allowed" },
});

const buttonVariants = {
  primary: css({ bg: "accent.default", color: "fg.onAccent", _hover: { bg: "accent.hover" } }),
  secondary: css({ bg: "bg.muted", color: "fg.default", borderColor: "border.default" }),
  buy: css({ bg: "buy", color: "fg.onSide" }),
  sell: css({ bg: "sell", color: "fg.onSide" }),
  ghost: css({ bg: "transparent", color: "fg.default", _hover: { bg: "bg.muted" } }),
} as const;

export function Button({
  variant = "primary",
  className,
  type = "button",
  ...props
}: ComponentProps<"button"> & { variant?: keyof typeof buttonVariants }) {
  return <button type={type} className={cx(buttonBase, buttonVariants[variant], className)} {...props} />;
}

export const inputClass = css({
  width: "100%",
  px: "3",
  py: "2",
  borderRadius: "md",
  borderWidth: "1px",
  borderColor: "border.default",
  bg: "bg.surface",
  color: "fg.default",
  fontFamily: "inherit",
  fontSize: "sm",
  "&[aria-invalid=true]": { borderColor: "danger" },
});

/** A compact input inside a table row (a decision comment, a halt reason); it carries its own aria-label. */
export const rowInputClass = css({
  borderWidth: "1px",
  borderColor: "border.default",
  borderRadius: "md",
  px: "2",
  py: "1",
  fontSize: "sm",
  bg: "bg.surface",
  color: "fg.default",
});

export function TextField({
  label,
  error,
  hint,
  ...input
}: ComponentProps<"input"> & FieldText) {
  return <Field label={label} error={error} hint={hint} control={(wiring) => <input className={inputClass} {...wiring} {...input} />} />;
}

/** A native select with the same label, hint and error wiring as `TextField`. */
export function SelectField({
  label,
  error,
  hint,
  options,
  ...select
}: ComponentProps<"select"> & FieldText & { options: { value: string; label: string }[] }) {
  return (
    <Field
      label={label}
      error={error}
      hint={hint}
      control={(wiring) => (
        <select className={inputClass} {...wiring} {...select}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

type FieldText = { label: string; error?: string | undefined; hint?: string | undefined };

type ControlWiring = { id: string; "aria-invalid": true | undefined; "aria-describedby": string | undefined };

/** A label, the control `control` renders with the wiring it is given, and the field's message. */
function Field({ label, error, hint, control }: FieldText & { control: (wiring: ControlWiring) => ReactNode }) {
  const id = useId();
  const messageId = `${id}-message`;
  return (
    <div className={css({ display: "flex", flexDirection: "column", gap: "1" })}>
      <label htmlFor={id} className={css({ fontSize: "sm", fontWeight: "medium" })}>
        {label}
      </label>
      {control({ id, "aria-invalid": error ? true : undefined, "aria-describedby": error || hint ? messageId : undefined })}
      <FieldMessage id={messageId} error={error} hint={hint} />
    </div>
  );
}

/** A field's error, or else its hint, which the control names in `aria-describedby`. */
function FieldMessage({ id, error, hint }: { id: string; error: string | undefined; hint: string | undefined }) {
  if (!error && !hint) return null;
  return (
    <p id={id} className={css({ color: error ? "danger" : "fg.muted", fontSize: "xs" })}>
      {error || hint}
    </p>
  );
}

export function Card({ title, actions, children, className, id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; id?: string }) {
  return (
    <section
      id={id}
      className={cx(
        css({ bg: "bg.surface", borderWidth: "1px", borderColor: "border.default", borderRadius: "lg", p: "4", minWidth: 0 }),
        className,
      )}
    >
      {title !== undefined || actions !== undefined ? (
        <header className={css({ display: "flex", justifyContent: "space-between", alignItems: "center", mb: "3", gap: "2" })}>
          {title !== undefined ? <h2 className={css({ fontSize: "md", fontWeight: "semibold" })}>{title}</h2> : <span />}
          {actions}
        </header>
      ) : null}
      {children}
    </section>
  );
}

export function PageTitle({ children }: { children: ReactNode }) {
  return <h1 className={css({ fontSize: "2xl", fontWeight: "bold", mb: "4" })}>{children}</h1>;
}

/** Inputs under one legend; a message about the group as a whole (say, an incomplete address) shows under it. */
export function Fieldset({ legend, hint, error, children }: { legend: string; hint?: string; error?: string | undefined; children: ReactNode }) {
  const id = useId();
  const messageId = `${id}-message`;
  return (
    <fieldset
      aria-describedby={error || hint ? messageId : undefined}
      className={css({ display: "flex", flexDirection: "column", gap: "3", borderWidth: "1px", borderColor: error ? "danger" : "border.default", borderRadius: "md", p: "3", minWidth: 0 })}
    >
      <legend className={css({ fontSize: "sm", fontWeight: "semibold", px: "1" })}>{legend}</legend>
      <FieldMessage id={messageId} error={error} hint={hint} />
      {children}
    </fieldset>
  );
}

/** A failed request, as the API explained it; the request id lets support find the log line. */
export function ErrorNotice({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  const lines = isProblemError(error) ? error.formErrors : [error instanceof Error ? error.message : "Unexpected error."];
  return <ErrorLines lines={lines} requestId={isProblemError(error) ? error.requestId : undefined} />;
}

/** The lines of a failure no single field holds (a form's summary), or nothing when there are none. */
export function ErrorLines({ lines, requestId }: { lines: string[]; requestId?: string | undefined }) {
  if (lines.length === 0) return null;
  return (
    <div role="alert" className={css({ color: "danger", fontSize: "sm", borderWidth: "1px", borderColor: "danger", borderRadius: "md", p: "3" })}>
      {lines.map((line) => (
        <p key={line}>{line}</p>
      ))}
      {requestId ? <p className={css({ color: "fg.muted", fontSize: "xs" })}>Request id: {requestId}</p> : null}
    </div>
  );
}

export const tableClass = css({
  width: "100%",
  borderCollapse: "collapse",
  fontSize: "sm",
  "& th": { textAlign: "left", color: "fg.muted", fontWeight: "medium", py: "1", px: "2", borderBottomWidth: "1px", borderColor: "border.default" },
  "& td": { py: "1", px: "2", borderBottomWidth: "1px", borderColor: "border.default", fontVariantNumeric: "tabular-nums" },
  "& td.num, & th.num": { textAlign: "right" },
});
