import { DomainError } from './domain-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id argument checked before it reaches a query: a malformed one is BAD_USER_INPUT naming the
 * argument (PostgreSQL would otherwise refuse it as an internal error).
 */
export function idArgument(name: string, value: string, what: string): string {
  // `what` is a kind's label ("image registry", "API token"): its article follows its first letter.
  const article = /^[aeiou]/i.test(what) ? 'an' : 'a';
  if (!UUID.test(value)) throw DomainError.badInput([{ field: name, message: `must be the id of ${article} ${what} (a UUID; got "${value.slice(0, 80)}")` }]);
  return value;
}

export function optionalIdArgument(name: string, value: string | null | undefined, what: string): string | undefined {
  return value === null || value === undefined ? undefined : idArgument(name, value, what);
}

/** A revision number argument: 1 or more when given. */
export function revisionArgument(name: string, value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw DomainError.badInput([{ field: name, message: `must be a revision number, 1 or more (got ${value}); omit it for the latest` }]);
  return value;
}
