/** App-wide notifications (order placed, fill, errors) through Ark UI's toast. */
import { createToaster, Toast, Toaster } from "@ark-ui/react/toast";
import { css } from "styled-system/css";

export const toaster = createToaster({ placement: "bottom-end", overlap: true, gap: 12 });

export function AppToaster() {
  return (
    <Toaster toaster={toaster}>
      {(toast) => (
        <Toast.Root
          className={css({
            bg: "bg.surface",
            color: "fg.default",
            borderWidth: "1px",
            borderColor: "border.default",
            borderRadius: "md",
            boxShadow: "lg",
            p: "3",
            minWidth: "64",
            translate: "var(--x) var(--y)",
            scale: "var(--scale)",
            zIndex: "var(--z-index)",
            height: "var(--height)",
            opacity: "var(--opacity)",
            transition: "translate 0.3s, scale 0.3s, opacity 0.3s",
          })}
        >
          <Toast.Title className={css({ fontWeight: "semibold", fontSize: "sm" })}>{toast.title}</Toast.Title>
          <Toast.Description className={css({ fontSize: "sm", color: "fg.muted" })}>{toast.description}</Toast.Description>
          <Toast.CloseTrigger aria-label="Dismiss" className={css({ position: "absolute", top: "1", right: "2", cursor: "pointer" })}>
            ×
          </Toast.CloseTrigger>
        </Toast.Root>
      )}
    </Toaster>
  );
}
