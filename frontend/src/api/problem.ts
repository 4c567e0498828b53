/** RFC 9457 problem details from the API, as a typed error the UI can show field by field. */

export interface FieldProblem {
  /** body, query, path, header or cookie */
  location: string;
  /** RFC 6901 JSON Pointer inside that location, e.g. `/beneficiary/name/0/primary_identifier` */
  pointer: string;
  detail: string;
  code: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

const PROBLEM_TYPE_PREFIX = "urn:tessera:problem:";

export class ProblemError extends Error {
  override readonly name = "ProblemError";
  readonly problem: ProblemDetails;

  constructor(problem: ProblemDetails) {
    super(problem.detail || problem.title);
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  /** The part after `urn:tessera:problem:`, e.g. `validation`, `csrf`, `unauthorized`. */
  get slug(): string {
    const { type } = this.problem;
    return type.startsWith(PROBLEM_TYPE_PREFIX) ? type.slice(PROBLEM_TYPE_PREFIX.length) : type;
  }

  get requestId(): string | undefined {
    return this.problem.request_id;
  }

  /** Messages keyed by form field name (see `pointerToField`); body errors only, first message wins. */
  get fieldErrors(): Record<string, string> {
    return fieldErrorsOf(this.problem);
  }

  /** Errors that cannot be shown beside a field: the detail, plus field errors outside the body. */
  get formErrors(): string[] {
    const others = (this.problem.errors ?? [])
      .filter((error) => error.location !== "body" || pointerToField(error.pointer) === "")
      .map((error) => describeFieldProblem(error));
    return [this.problem.detail || this.problem.title, ...others];
  }
}

/**
 * A JSON Pointer to the dotted field name forms use: `/beneficiary/name/0/primary_identifier` becomes
 * `beneficiary.name.0.primary_identifier`; `~1` and `~0` are unescaped as RFC 6901 says.
 */
export function pointerToField(pointer: string): string {
  if (pointer === "" || pointer === "/") return "";
  return pointer
    .replace(/^\//, "")
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

export function fieldErrorsOf(problem: ProblemDetails): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const error of problem.errors ?? []) {
    if (error.location !== "body") continue;
    const field = pointerToField(error.pointer);
    if (field !== "" && !(field in fields)) fields[field] = error.detail;
  }
  return fields;
}

function describeFieldProblem(error: FieldProblem): string {
  const field = pointerToField(error.pointer);
  return field === "" ? error.detail : `${error.location} ${field}: ${error.detail}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isFieldProblem(value: unknown): value is FieldProblem {
  return (
    isRecord(value) &&
    typeof value.location === "string" &&
    typeof value.pointer === "string" &&
    typeof value.detail === "string" &&
    typeof value.code === "string"
  );
}

const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  422: "Invalid Input",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * Builds the problem for any failed answer. A proper problem document is kept as it is (extensions
 * included, malformed field errors dropped); anything else (a proxy's HTML page, an empty body) becomes a
 * generic problem for its status, so callers handle one shape.
 */
export function problemFromResponse(
  status: number,
  contentType: string | null,
  body: unknown,
  instance: string,
): ProblemDetails {
  const fallbackTitle = STATUS_TITLES[status] ?? `HTTP ${status}`;
  const isProblemJson = (contentType ?? "").toLowerCase().includes("json");
  if (isProblemJson && isRecord(body) && typeof body.title === "string") {
    const { errors: rawErrors, ...rest } = body;
    const errors = Array.isArray(rawErrors) ? rawErrors.filter(isFieldProblem) : undefined;
    return {
      ...rest,
      type: typeof body.type === "string" ? body.type : "about:blank",
      title: body.title,
      status: typeof body.status === "number" ? body.status : status,
      detail: typeof body.detail === "string" ? body.detail : body.title,
      instance: typeof body.instance === "string" ? body.instance : instance,
      ...(typeof body.request_id === "string" ? { request_id: body.request_id } : {}),
      ...(errors && errors.length > 0 ? { errors } : {}),
    };
  }
  return {
    type: "about:blank",
    title: fallbackTitle,
    status,
    detail: status >= 500 ? "The server could not answer; try again shortly." : fallbackTitle,
    instance,
  };
}

/** The problem for a request that got no answer at all (offline, DNS, connection refused). */
export function networkProblem(instance: string): ProblemDetails {
  return {
    type: "urn:tessera:problem:network",
    title: "Network Error",
    status: 0,
    detail: "Tessera could not be reached. Check your connection and try again.",
    instance,
  };
}

export function isProblemError(error: unknown): error is ProblemError {
  return error instanceof ProblemError;
}
