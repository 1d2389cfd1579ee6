import { Link } from 'react-router';
import { useQuery } from 'urql';
import { useProject } from '../../projects/ProjectContext';
import type { ResourceKind, ResourcePickerProps } from '../../ui/schema-form';
import { errorMessage } from '../../ui/states';
import { ResourceQueries } from '../operations';

const KIND: Record<ResourceKind, { one: string; many: string; settings: string | null }> = {
  SOURCE_REPOSITORY: { one: 'source repository', many: 'source repositories', settings: 'source-repositories' },
  BUILD_TOOL: { one: 'build tool', many: 'build tools', settings: 'build-tools' },
  IMAGE_REGISTRY: { one: 'image registry', many: 'image registries', settings: 'image-registries' },
  CHART_REPOSITORY: { one: 'chart repository', many: 'chart repositories', settings: 'chart-repositories' },
  DEPLOYMENT_TARGET: { one: 'deployment target', many: 'deployment targets', settings: 'deployment-targets' },
  PIPELINE: { one: 'pipeline', many: 'pipelines', settings: null },
};

export const PICKER_PAGE = 100;

/**
 * A select of the project's resources of one kind, by name (the first 100; a value not among
 * them is kept and shown by its id). `excludeId` leaves one out (a pipeline cannot run itself).
 */
export function ResourceSelect({ id, kind, value, onChange, required, invalid, describedBy, disabled, excludeId }: ResourcePickerProps & { excludeId?: string }) {
  const project = useProject();
  const [{ data, fetching, error }] = useQuery({ query: ResourceQueries[kind], variables: { projectId: project.id, first: PICKER_PAGE } });
  const info = KIND[kind];
  const items = (data?.items.edges ?? []).map((e) => e.node).filter((n) => n.id !== excludeId);
  const known = !value || items.some((n) => n.id === value);
  return (
    <>
      <select
        id={id}
        value={value ?? ''}
        aria-invalid={invalid || undefined}
        aria-required={required || undefined}
        aria-describedby={describedBy}
        aria-busy={fetching || undefined}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
      >
        <option value="">{fetching && !data ? 'Loading…' : required ? `Choose a ${info.one}…` : '(none)'}</option>
        {!known && value && <option value={value}>Unknown {info.one} ({value})</option>}
        {items.map((n) => (
          <option key={n.id} value={n.id}>
            {n.name}
          </option>
        ))}
      </select>
      {error && <span className="field-error">Cannot list {info.many}: {errorMessage(error)}</span>}
      {data && items.length === 0 && (
        <span className="hint">
          No {info.many} in this project yet
          {info.settings && (
            <>
              : add one in <Link to={`/p/${project.slug}/settings/${info.settings}`}>environment settings</Link>
            </>
          )}
          .
        </span>
      )}
      {data && data.items.totalCount > PICKER_PAGE && <span className="hint">Showing the first {PICKER_PAGE} of {data.items.totalCount}.</span>}
    </>
  );
}
