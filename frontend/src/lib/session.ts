/** Who is signed in, for the router's guards: `GET /api/v1/me` through the generated query options. */
import type { QueryClient } from "@tanstack/react-query";

import { getAuthMeQueryOptions } from "../api/generated/auth/auth";
import type { Me, Role } from "../api/generated/model";
import { isProblemError } from "../api/problem";

/** The signed-in account, or null when the session cookie is missing or expired (401). */
export async function loadSession(queryClient: QueryClient): Promise<Me | null> {
  try {
    return await queryClient.ensureQueryData({ ...getAuthMeQueryOptions(), staleTime: 60_000 });
  } catch (error) {
    if (isProblemError(error) && error.status === 401) return null;
    throw error;
  }
}

/** Who reviews withdrawals and alerts: compliance officers only, as the API has it (administrators run the
 * venue and do not review themselves). */
export const COMPLIANCE_ROLES: readonly Role[] = ["compliance"];

/** Who runs the venue's operations (kill switches). */
export const ADMIN_ROLES: readonly Role[] = ["admin"];

export function hasRole(me: Me, roles: readonly Role[]): boolean {
  return roles.includes(me.role);
}
