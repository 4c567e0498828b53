// Runs IVMS101 payloads through the npm package `ivms101` (an independent implementation of the standard)
// for the differential test in tests/backend/compliance/test_ivms101_differential.py.
//
// stdin:  [{"id": "...", "edition": "2020" | "2023", "payload": {...}}, ...]   payloads in Tessera's shape
// stdout: [{"id": "...", "valid": true | false, "issues": [{"path": "/a/0/b", "message": "..."}]}, ...]
//
// Tessera keeps the standard's literal nesting ({"originatingVASP": {"originatingVASP": Person}}); the package
// expects the VASP entities flat ({"originatingVASP": Person}), so they are unwrapped here and the package's
// paths are wrapped back.
import { validate } from "ivms101";

const VASP_ENTITIES = ["originatingVASP", "beneficiaryVASP"];

function toPackageShape(payload) {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return payload;
  const flat = { ...payload };
  for (const entity of VASP_ENTITIES) {
    const wrapper = flat[entity];
    if (wrapper !== null && typeof wrapper === "object" && !Array.isArray(wrapper)) {
      if (entity in wrapper) flat[entity] = wrapper[entity];
      else delete flat[entity];
    }
  }
  return flat;
}

function toPointer(path) {
  const steps = [...path];
  if (VASP_ENTITIES.includes(steps[0])) steps.splice(1, 0, steps[0]);
  return steps.map((step) => `/${String(step).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function check({ id, edition, payload }) {
  try {
    validate(toPackageShape(payload), { version: edition });
    return { id, valid: true, issues: [] };
  } catch (error) {
    if (!Array.isArray(error?.issues)) throw error;
    const issues = error.issues.map((issue) => ({ path: toPointer(issue.path ?? []), message: issue.message }));
    return { id, valid: false, issues };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
process.stdout.write(JSON.stringify(cases.map(check)));
