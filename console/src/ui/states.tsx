import type { CombinedError } from 'urql';
import type { ReactNode } from 'react';

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden /> {label}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function ErrorState({ title = 'Something went wrong', message, action }: { title?: string; message: string; action?: ReactNode }) {
  return (
    <div className="state state-error" role="alert">
      <strong>{title}</strong>
      <p>{message}</p>
      {action}
    </div>
  );
}

/** The message of a GraphQL error without urql's "[GraphQL] " prefix (all of them, one per line). */
export function errorMessage(error: CombinedError | Error | null | undefined): string {
  if (!error) return '';
  if ('graphQLErrors' in error && error.graphQLErrors.length) return error.graphQLErrors.map((e) => e.message).join('\n');
  if ('networkError' in error && error.networkError) return `cannot reach the gateway: ${error.networkError.message}`;
  return error.message.replace(/^\[(GraphQL|Network)\] /, '');
}

/** A mutation's error, shown next to the control that caused it. */
export function MutationError({ error }: { error: CombinedError | Error | null | undefined }) {
  if (!error) return null;
  return (
    <p className="mutation-error" role="alert">
      {errorMessage(error)}
    </p>
  );
}

/** A query's result in one of its three states, or its content. */
export function QueryState({ fetching, error, children, label }: { fetching: boolean; error?: CombinedError; children: ReactNode; label?: string }) {
  if (error) return <ErrorState message={errorMessage(error)} />;
  if (fetching) return <Loading label={label} />;
  return <>{children}</>;
}
