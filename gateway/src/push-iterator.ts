import type { ExecutionResult } from 'graphql';

/** An async iterator fed by `push`, as graphql-ws consumes a subscription; `end` finishes it. */
export interface PushIterator {
  iterator: AsyncIterableIterator<ExecutionResult>;
  push(result: ExecutionResult): void;
  end(): void;
}

/**
 * Results queue until the client reads them. `onClose` runs once, when the client unsubscribes
 * or the producer ends. `map` shapes each result as it leaves (e.g. to the subscriber's alias).
 */
export function pushIterator(onClose: () => void, map: (r: ExecutionResult) => ExecutionResult = (r) => r): PushIterator {
  const queue: ExecutionResult[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    onClose();
    wake?.();
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      while (!queue.length && !done) await new Promise<void>((r) => (wake = r));
      wake = null;
      if (!queue.length) return { value: undefined, done: true };
      return { value: map(queue.shift()!), done: false };
    },
    async return() {
      end();
      return { value: undefined, done: true };
    },
    async throw(err) {
      end();
      throw err;
    },
  };
  return {
    iterator,
    push: (result) => {
      if (done) return;
      queue.push(result);
      wake?.();
    },
    end,
  };
}
