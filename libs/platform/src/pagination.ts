import { Type } from '@nestjs/common';
import { Directive, Field, Int, ObjectType } from '@nestjs/graphql';
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

/** Checks `first` (1..100, default 20) and decodes `after`, naming the argument when it is bad. */
export function pageArgs(first: number | undefined | null, after: string | undefined | null): { first: number; after: string[] | null } {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw DomainError.badInput([{ field: 'first', message: `must be between 1 and ${MAX_PAGE_SIZE} (got ${first})` }]);
  }
  if (!after) return { first: size, after: null };
  try {
    const parts = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
    if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) throw new Error('shape');
    return { first: size, after: parts };
  } catch {
    throw DomainError.badInput([{ field: 'after', message: 'is not a cursor this API returned; pass an endCursor from a previous page' }]);
  }
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
