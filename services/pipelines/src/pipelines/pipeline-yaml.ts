import type { PipelineDocument } from '@pipewright/contracts';
import { DomainError } from '@pipewright/platform';
import { parseDocument, stringify } from 'yaml';

export const API_VERSION = 'pipewright.dev/v1';

/** The YAML form of a pipeline revision: the document under apiVersion and kind. */
export function toYaml(document: PipelineDocument): string {
  return stringify({ apiVersion: API_VERSION, kind: 'Pipeline', ...document }, { lineWidth: 0 });
}

/** Parses a pipeline's YAML; a syntax error names its line and column. */
export function fromYaml(text: string): Record<string, unknown> {
  if (text.length > 4 * 1024 * 1024) throw DomainError.badInput([{ field: 'yaml', message: 'must be at most 4 MB' }]);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : 'unknown position';
    const reason = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new DomainError('BAD_USER_INPUT', `yaml is not valid YAML at ${where}: ${reason}`, { field: 'yaml', line: pos?.line, column: pos?.col });
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw DomainError.badInput([{ field: 'yaml', message: 'must be a mapping (apiVersion, kind, name, stages, ...)' }]);
  const { apiVersion, kind, ...document } = value as Record<string, unknown>;
  const problems = [];
  if (apiVersion !== API_VERSION) problems.push({ field: 'apiVersion', message: `must be ${API_VERSION} (got ${JSON.stringify(apiVersion ?? null)})` });
  if (kind !== 'Pipeline') problems.push({ field: 'kind', message: `must be Pipeline (got ${JSON.stringify(kind ?? null)})` });
  if (problems.length) throw DomainError.badInput(problems);
  return document;
}
