import { QueryClient } from "@tanstack/react-query";

import { isProblemError } from "../api/problem";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        // Client errors (401, 403, 404, 422) will not change on retry; network and 5xx might.
        retry: (failureCount, error) =>
          failureCount < 2 && !(isProblemError(error) && error.status >= 400 && error.status < 500),
      },
    },
  });
}
