import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { SelectField, TextField } from "./ui";

const options = [
  { value: "ETH", label: "Ether" },
  { value: "USDT", label: "Tether" },
];

describe("form fields", () => {
  it.each([
    ["text", () => render(<TextField label="Amount" error="must be positive" hint="in ETH" />), "textbox"],
    ["select", () => render(<SelectField label="Amount" error="must be positive" hint="in ETH" options={options} />), "combobox"],
  ] as const)("a %s field names its error, marks itself invalid and keeps its label", (_kind, show, role) => {
    show();
    const control = screen.getByRole(role, { name: "Amount" });
    expect(control).toHaveAttribute("aria-invalid", "true");
    expect(control).toHaveAccessibleDescription("must be positive");
    expect(screen.queryByText("in ETH")).toBeNull(); // the error replaces the hint
  });

  it.each([
    ["text", () => render(<TextField label="Amount" hint="in ETH" />), "textbox"],
    ["select", () => render(<SelectField label="Amount" hint="in ETH" options={options} />), "combobox"],
  ] as const)("a valid %s field is described by its hint", (_kind, show, role) => {
    show();
    const control = screen.getByRole(role, { name: "Amount" });
    expect(control).not.toHaveAttribute("aria-invalid");
    expect(control).toHaveAccessibleDescription("in ETH");
  });

  it("a field with neither error nor hint has no description, and its own props win", () => {
    render(<TextField label="Memo" placeholder="optional" />);
    const control = screen.getByRole("textbox", { name: "Memo" });
    expect(control).not.toHaveAttribute("aria-describedby");
    expect(control).toHaveAttribute("placeholder", "optional");
  });
});
