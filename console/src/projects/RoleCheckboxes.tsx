import type { ProjectRole } from '../gql/graphql';
import { FieldError, fieldErrorId } from '../ui/FieldError';

export const PROJECT_ROLES: { role: ProjectRole; description: string }[] = [
  { role: 'VIEWER', description: 'reads everything in the project' },
  { role: 'DEVELOPER', description: 'edits and runs pipelines' },
  { role: 'ADMIN', description: 'also manages environment settings, members and API tokens' },
  { role: 'APPROVAL_ADMIN', description: 'decides approvals' },
];

/** The project roles as checkboxes (labelled with the role's name), in a fieldset named `legend`. */
export function RoleCheckboxes({
  idPrefix,
  value,
  onChange,
  error,
  legend = 'Roles',
  hideLegend = false,
}: {
  idPrefix: string;
  value: ProjectRole[];
  onChange: (roles: ProjectRole[]) => void;
  error?: string;
  legend?: string;
  /** The legend only for assistive technology (the form shows the word itself). */
  hideLegend?: boolean;
}) {
  const errId = `${idPrefix}-roles`;
  return (
    <fieldset className="role-checkboxes" aria-invalid={error ? true : undefined} aria-describedby={error ? fieldErrorId(errId) : undefined}>
      <legend className={hideLegend ? 'visually-hidden' : undefined}>{legend}</legend>
      {PROJECT_ROLES.map(({ role, description }) => {
        const id = `${idPrefix}-role-${role}`;
        return (
          <div className="role-option" key={role}>
            <input
              id={id}
              type="checkbox"
              checked={value.includes(role)}
              aria-describedby={`${id}-desc`}
              onChange={(e) => onChange(e.target.checked ? PROJECT_ROLES.map((r) => r.role).filter((r) => r === role || value.includes(r)) : value.filter((r) => r !== role))}
            />
            <label htmlFor={id} className="mono">
              {role}
            </label>
            <span className="muted" id={`${id}-desc`}>
              {description}
            </span>
          </div>
        );
      })}
      <FieldError id={errId} message={error} />
    </fieldset>
  );
}

export function RoleList({ roles }: { roles: ProjectRole[] }) {
  if (!roles.length) return <span className="muted">none</span>;
  return (
    <span className="role-list">
      {roles.map((r) => (
        <span key={r} className={`role role-${r}`}>
          {r}
        </span>
      ))}
    </span>
  );
}
