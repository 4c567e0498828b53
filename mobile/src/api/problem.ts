/**
 * RFC 9457 problems as typed errors: the web app's pure module, shared so both apps map the API's answers
 * the same way.
 */
export {
  fieldErrorsOf,
  isProblemError,
  networkProblem,
  pointerToField,
  ProblemError,
  problemFromResponse,
  type FieldProblem,
  type ProblemDetails,
} from "../../../frontend/src/api/problem";
