import { useCallback, useState } from 'react';

export const PAGE_SIZE = 20;

/**
 * Relay-connection paging (first/after) with a stack of the cursors seen, so "Previous" works
 * without `last/before`. `reset()` when the filter changes.
 */
export function usePager(pageSize = PAGE_SIZE) {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const after = stack[stack.length - 1];
  const next = useCallback((endCursor: string | null | undefined) => endCursor && setStack((s) => [...s, endCursor]), []);
  const previous = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const reset = useCallback(() => setStack([null]), []);
  return { variables: { first: pageSize, after }, page: stack.length, next, previous, reset, pageSize };
}

export function Pager({
  pager,
  pageInfo,
  totalCount,
}: {
  pager: ReturnType<typeof usePager>;
  pageInfo?: { hasNextPage: boolean; endCursor?: string | null } | null;
  totalCount?: number | null;
}) {
  const pages = totalCount != null ? Math.max(1, Math.ceil(totalCount / pager.pageSize)) : null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={pager.previous} disabled={pager.page <= 1}>
        Previous
      </button>
      <span>
        Page {pager.page}
        {pages != null && ` of ${pages}`}
        {totalCount != null && ` · ${totalCount} in all`}
      </span>
      <button type="button" onClick={() => pager.next(pageInfo?.endCursor)} disabled={!pageInfo?.hasNextPage}>
        Next
      </button>
    </nav>
  );
}
