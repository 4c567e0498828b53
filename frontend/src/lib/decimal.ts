/**
 * Decimal strings, never floats: money arrives and leaves as strings ("0.015") and all arithmetic goes
 * through big.js, which is exact for + - * and for comparisons.
 */
import Big from "big.js";

// A plain non-negative decimal as the API accepts it: no sign, no exponent, no thousands separators.
const DECIMAL_PATTERN = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

export type Decimal = Big;

/** Parses user input or an API amount; undefined for anything that is not a plain decimal. */
export function parseDecimal(input: string | null | undefined): Decimal | undefined {
  if (input === null || input === undefined) return undefined;
  const text = input.trim();
  if (!DECIMAL_PATTERN.test(text)) return undefined;
  return new Big(text);
}

export function dec(value: string): Decimal {
  const parsed = parseDecimal(value);
  if (parsed === undefined) throw new Error(`not a decimal string: ${JSON.stringify(value)}`);
  return parsed;
}

/** True when `value` is a whole number of `step`s (tick size, lot size). */
export function isMultipleOf(value: Decimal, step: Decimal): boolean {
  if (step.lte(0)) return true;
  return value.mod(step).eq(0);
}

/** Decimal places of a step such as "0.01" (2) or "5" (0): how to display values on that grid. */
export function decimalPlaces(step: string): number {
  const canonical = dec(step).toFixed();
  const dot = canonical.indexOf(".");
  return dot === -1 ? 0 : canonical.length - dot - 1;
}

/** The wire form: no exponent, no trailing zeros ("64000.5"). */
export function toWire(value: Decimal): string {
  return value.toFixed();
}

/** Rounds down onto the grid of `step` (for "max" buttons and suggestions). */
export function floorToStep(value: Decimal, step: Decimal): Decimal {
  if (step.lte(0)) return value;
  return value.div(step).round(0, Big.roundDown).times(step);
}

/** Display with a fixed number of places, grouping thousands; exact, no float conversion. */
export function formatDecimal(value: string | Decimal | null | undefined, places?: number): string {
  if (value === null || value === undefined) return "—";
  const big = typeof value === "string" ? parseDecimal(value) ?? parseSigned(value) : value;
  if (big === undefined) return "—";
  const fixed = places === undefined ? big.toFixed() : big.toFixed(places, Big.roundHalfUp);
  const negative = fixed.startsWith("-");
  const [whole = "0", fraction] = (negative ? fixed.slice(1) : fixed).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`;
}

function parseSigned(value: string): Decimal | undefined {
  const text = value.trim();
  if (!text.startsWith("-")) return undefined;
  const magnitude = parseDecimal(text.slice(1));
  return magnitude?.neg();
}

/** Signed parse for API values that may be negative (24h change). */
export function parseSignedDecimal(value: string | null | undefined): Decimal | undefined {
  if (value === null || value === undefined) return undefined;
  return parseDecimal(value) ?? parseSigned(value);
}
