import { Type } from '@nestjs/common';
import { Directive, Field, Int, ObjectType } from '@nestjs/graphql';
import { isUuid } from '@pipewright/contracts';
import { DomainError } from './domain-error';

@ObjectType()
@Directive('@shareable')
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field() hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** A Relay connection type for `T`: `<T>Connection { edges { cursor node } pageInfo totalCount }`. */
export function ConnectionType<T>(node: Type<T>, name: string): Type<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field() cursor!: string;
    @Field(() => node) node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionClass {
    @Field(() => [EdgeType]) edges!: EdgeType[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int) totalCount!: number;
  }
  return ConnectionClass as Type<Connection<T>>;
}

export const MAX_PAGE_SIZE = 100;

/** One part of a cursor: what it must be, and the value the list's query compares with (undefined when it is not that). */
export interface CursorPart<T> {
  readonly what: string;
  parse(part: string): T | undefined;
}

// PostgreSQL has no year 0.
const ISO_TIMESTAMP = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The parts the lists' sort keys are made of. Each accepts only what the list itself writes, so
 * nothing a client makes up reaches SQL as a value PostgreSQL refuses (an internal error).
 */
export const cursorParts = {
  /** A row's timestamp exactly as `toISOString()` wrote it (Date.parse alone takes "2024-02-31"). */
  timestamp: { what: 'a timestamp', parse: (s: string) => (ISO_TIMESTAMP.test(s) && !Number.isNaN(Date.parse(s)) && new Date(s).toISOString() === s ? s : undefined) },
  id: { what: 'an id', parse: (s: string) => (isUuid(s) ? s : undefined) },
  /** A name, slug or subject: any text PostgreSQL can hold (no NUL). */
  text: { what: 'a text', parse: (s: string) => (!s.includes('\u0000') ? s : undefined) },
  /** A revision number (a PostgreSQL integer, 1 or more). */
  revision: { what: 'a revision number', parse: (s: string) => (/^[1-9]\d{0,9}$/.test(s) && Number(s) <= 2 ** 31 - 1 ? Number(s) : undefined) },
} satisfies Record<string, CursorPart<unknown>>;

/** What the cursors of a list hold, part by part. */
export type CursorShape = readonly CursorPart<unknown>[];
export type CursorOf<P extends CursorShape> = { -readonly [K in keyof P]: P[K] extends CursorPart<infer T> ? T : never };

/** The shapes the lists use: their sort keys, in order. */
export const cursorShapes = {
  /** Newest first: created_at, then id (builds, runs, API tokens). */
  createdAtId: [cursorParts.timestamp, cursorParts.id],
  /** By name: lower(name), then id (pipelines, environment resources). */
  nameId: [cursorParts.text, cursorParts.id],
  /** By one unique text key (projects by slug, members by subject). */
  key: [cursorParts.text],
  /** Newest revision first. */
  revision: [cursorParts.revision],
} as const satisfies Record<string, CursorShape>;

/** The strings a cursor (base64url of a JSON array of strings) holds. */
function cursorStrings(after: string): string[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('it does not decode');
  }
  if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) throw badCursor('it does not decode');
  return parts;
}

function badCursor(why: string): DomainError {
  return DomainError.badInput([{ field: 'after', message: `is not a cursor of this list (${why}); pass pageInfo.endCursor of a previous page of the same list, or leave after out for the first page` }]);
}

/** Decodes `after` into the parts of `shape`: BAD_USER_INPUT naming `after` when it is not a cursor of that shape. */
export function decodeCursor<P extends CursorShape>(after: string, shape: P): CursorOf<P> {
  const parts = cursorStrings(after);
  const wanted = shape.map((p) => p.what).join(', ');
  if (parts.length !== shape.length) throw badCursor(`it has ${parts.length} part(s); this list's cursors have ${shape.length}: ${wanted}`);
  return shape.map((part, i) => {
    const value = part.parse(parts[i]);
    if (value === undefined) throw badCursor(`part ${i + 1} must be ${part.what}; this list's cursors hold ${wanted}`);
    return value;
  }) as CursorOf<P>;
}

function pageSize(first: number | undefined | null): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw DomainError.badInput([{ field: 'first', message: `must be between 1 and ${MAX_PAGE_SIZE} (got ${first})` }]);
  }
  return size;
}

/** Checks `first` (1..100, default 20) and decodes `after` into the parts of the list's cursor `shape`, naming the argument when it is bad. */
export function pageArgs<P extends CursorShape>(first: number | undefined | null, after: string | undefined | null, shape: P): { first: number; after: CursorOf<P> | null };
export function pageArgs(first: number | undefined | null, after: string | undefined | null, shape: CursorShape): { first: number; after: unknown[] | null } {
  const size = pageSize(first);
  if (!after) return { first: size, after: null };
  return { first: size, after: decodeCursor(after, shape) };
}

/** An opaque cursor over the sort key of a row. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** A connection from one page of rows fetched with `LIMIT first + 1` (the extra row means "more"). */
export function connectionOf<T>(rows: T[], first: number, after: unknown, totalCount: number, cursorOf: (row: T) => string[]): Connection<T> {
  const edges = rows.slice(0, first).map((node) => ({ node, cursor: encodeCursor(cursorOf(node)) }));
  return {
    edges,
    totalCount,
    pageInfo: { hasNextPage: rows.length > first, hasPreviousPage: !!after, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
