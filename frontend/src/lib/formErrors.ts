/**
 * A failed request as a form shows it. Each input is tied to the dotted JSON path it fills in the request
 * body (`beneficiary.naturalPerson.name.nameIdentifier.0.primaryIdentifier`), so the problem's field errors,
 * which point into the body (RFC 9457, JSON Pointer), land beside the inputs; the rest goes above the form.
 */
import { isProblemError } from "../api/problem";

export type FieldMessages<Field extends string> = Partial<Record<Field, string>>;

export interface FormErrors<Field extends string> {
  fields: FieldMessages<Field>;
  form: string[];
}

/** Field messages for the form from a problem's `fieldErrors` (keyed by dotted JSON path). */
export function formFieldErrors<Field extends string>(fieldErrors: Record<string, string>, paths: Record<Field, string>): FieldMessages<Field> {
  const result: FieldMessages<Field> = {};
  for (const [key, path] of Object.entries(paths) as [Field, string][]) {
    const message = fieldErrors[path];
    if (message !== undefined) result[key] = message;
  }
  return result;
}

/**
 * Messages beside the inputs they point at, and above the form the problem's detail and the errors about
 * parts of the body no input holds (with their path, so they can still be found).
 */
export function formErrors<Field extends string>(error: unknown, paths: Record<Field, string>): FormErrors<Field> {
  if (error === null || error === undefined) return { fields: {}, form: [] };
  if (!isProblemError(error)) return { fields: {}, form: [error instanceof Error ? error.message : "Unexpected error."] };
  const fields = formFieldErrors(error.fieldErrors, paths);
  const placed = new Set<string>(Object.values(paths));
  const unplaced = Object.entries(error.fieldErrors)
    .filter(([path]) => !placed.has(path))
    .map(([path, message]) => `${path}: ${message}`);
  return { fields, form: [...error.formErrors, ...unplaced] };
}
