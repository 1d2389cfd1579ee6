import { useCallback, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { ProjectRole } from '../gql/graphql';
import { fieldErrors } from '../ui/errors';
import { FieldError, fieldErrorId } from '../ui/FieldError';
import { Modal } from '../ui/Modal';
import { Pager, usePager } from '../ui/Pager';
import { Empty, ErrorState, Loading, MutationError, errorMessage } from '../ui/states';
import { useProject, useViewer } from './ProjectContext';
import { RoleCheckboxes, RoleList } from './RoleCheckboxes';
import './members.css';

const MembersQuery = graphql(`
  query MembersList($id: ID!, $first: Int, $after: String) {
    project(id: $id) {
      id
      members(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { subject roles addedAt addedBy updatedAt } }
      }
    }
  }
`);

const SetMemberMutation = graphql(`
  mutation MembersSet($projectId: ID!, $subject: String!, $roles: [ProjectRole!]!) {
    setProjectMember(projectId: $projectId, subject: $subject, roles: $roles) { subject roles addedAt addedBy updatedAt }
  }
`);

const RemoveMemberMutation = graphql(`
  mutation MembersRemove($projectId: ID!, $subject: String!) {
    removeProjectMember(projectId: $projectId, subject: $subject)
  }
`);

interface Member {
  subject: string;
  roles: ProjectRole[];
  addedAt: string;
  addedBy: string;
}

const formatTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** `/p/:project/members`: who holds which roles; project admins add, change and remove members. */
export function MembersPage() {
  const project = useProject();
  const viewer = useViewer();
  const pager = usePager();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: MembersQuery, variables: { id: project.id, ...pager.variables } });
  const refetch = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  const [changing, setChanging] = useState<Member | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const closeChange = useCallback(() => setChanging(null), []);
  const closeRemove = useCallback(() => setRemoving(null), []);

  const members = data?.project?.members;
  let body;
  if (error && !members) body = <ErrorState title="Could not load the members" message={errorMessage(error)} action={<button type="button" onClick={refetch}>Retry</button>} />;
  else if (!data) body = <Loading label="Loading members" />;
  else if (!members) body = <Empty title="This project is gone">It may have been deleted.</Empty>;
  else if (!members.edges.length)
    body = <Empty title="No members yet">{project.canAdmin ? 'Add one above.' : 'A project admin can add members.'}</Empty>;
  else
    body = (
      <>
        <table className="members-table" aria-label="Members" aria-busy={fetching || undefined}>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Roles</th>
              <th scope="col">Added</th>
              {project.canAdmin && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {members.edges.map(({ node: m }) => (
              <tr key={m.subject}>
                <th scope="row" className="mono">
                  {m.subject}
                  {m.subject === viewer.sub && <span className="you">(you)</span>}
                </th>
                <td>
                  <RoleList roles={m.roles} />
                </td>
                <td>
                  {formatTime(m.addedAt)} <span className="muted">by {m.addedBy}</span>
                </td>
                {project.canAdmin && (
                  <td className="row-actions">
                    <button type="button" onClick={() => setChanging(m)} aria-label={`Change roles of ${m.subject}`}>
                      Change roles
                    </button>
                    <button type="button" className="danger" onClick={() => setRemoving(m)} aria-label={`Remove ${m.subject}`}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        <Pager pager={pager} pageInfo={members.pageInfo} totalCount={members.totalCount} />
      </>
    );

  return (
    <div>
      <div className="page-header">
        <h1>Members</h1>
        <span className="muted">of {project.name}</span>
      </div>
      {project.canAdmin ? <AddMember projectId={project.id} onAdded={refetch} /> : <p className="muted">Read-only: only project admins add, change or remove members.</p>}
      {body}
      {changing && <ChangeRoles projectId={project.id} member={changing} onClose={closeChange} onSaved={() => {
            setChanging(null);
            refetch();
          }} />}
      {removing && <RemoveMember projectId={project.id} projectName={project.name} member={removing} onClose={closeRemove} onRemoved={() => {
            setRemoving(null);
            refetch();
          }} />}
    </div>
  );
}

function AddMember({ projectId, onAdded }: { projectId: string; onAdded: () => void }) {
  const [subject, setSubject] = useState('');
  const [roles, setRoles] = useState<ProjectRole[]>(['VIEWER']);
  const [state, setMember] = useMutation(SetMemberMutation);
  const [added, setAdded] = useState<string | null>(null);
  const errors = fieldErrors(state.error);
  const unclaimed = state.error && !errors.subject && !errors.roles ? state.error : null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await setMember({ projectId, subject: subject.trim(), roles });
    if (r.error) return;
    setAdded(r.data?.setProjectMember.subject ?? subject);
    setSubject('');
    setRoles(['VIEWER']);
    onAdded();
  };
  return (
    <form className="panel" onSubmit={submit} noValidate aria-label="Add a member">
      <h2 className="panel-title">Add a member</h2>
      <div className="members-add">
        <div className="field">
          <label htmlFor="member-add-subject">Subject</label>
          <input
            id="member-add-subject"
            value={subject}
            onChange={(e) => {
              setSubject(e.target.value);
              setAdded(null);
            }}
            aria-invalid={errors.subject ? true : undefined}
            aria-describedby={[errors.subject ? fieldErrorId('member-add-subject') : '', 'member-add-subject-hint'].join(' ').trim()}
            autoComplete="off"
          />
          <span className="hint" id="member-add-subject-hint">
            The user's subject (sub) at the identity provider. An existing member gets exactly the roles chosen.
          </span>
          <FieldError id="member-add-subject" message={errors.subject} />
        </div>
        <RoleCheckboxes idPrefix="member-add" value={roles} onChange={setRoles} error={errors.roles} />
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {state.fetching && <span className="spinner" aria-hidden />} Add member
        </button>
        {added && <span className="muted">Added {added}.</span>}
        <MutationError error={unclaimed} />
      </div>
    </form>
  );
}

function ChangeRoles({ projectId, member, onClose, onSaved }: { projectId: string; member: Member; onClose: () => void; onSaved: () => void }) {
  const [roles, setRoles] = useState<ProjectRole[]>(member.roles);
  const [state, setMember] = useMutation(SetMemberMutation);
  const errors = fieldErrors(state.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await setMember({ projectId, subject: member.subject, roles });
    if (!r.error) onSaved();
  };
  return (
    <Modal title={`Roles of ${member.subject}`} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <RoleCheckboxes idPrefix="member-change" value={roles} onChange={setRoles} error={errors.roles} />
        {!roles.length && <p className="hint muted">A member needs at least one role; to take every role away, remove the member.</p>}
        <div className="actions">
          <button type="submit" className="primary" disabled={state.fetching || !roles.length}>
            {state.fetching && <span className="spinner" aria-hidden />} Save
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <MutationError error={errors.roles ? null : state.error} />
        </div>
      </form>
    </Modal>
  );
}

function RemoveMember({
  projectId,
  projectName,
  member,
  onClose,
  onRemoved,
}: {
  projectId: string;
  projectName: string;
  member: Member;
  onClose: () => void;
  onRemoved: () => void;
}) {
  const [state, remove] = useMutation(RemoveMemberMutation);
  const [notMember, setNotMember] = useState(false);
  const run = async () => {
    const r = await remove({ projectId, subject: member.subject });
    if (r.error) return;
    if (r.data?.removeProjectMember === false) setNotMember(true);
    else onRemoved();
  };
  return (
    <Modal title={`Remove ${member.subject}?`} onClose={onClose}>
      <p>
        Remove <strong className="mono">{member.subject}</strong> from {projectName}? They lose every role in this project at once.
      </p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => void run()} disabled={state.fetching}>
          {state.fetching && <span className="spinner" aria-hidden />} Remove
        </button>
        <button type="button" onClick={notMember ? onRemoved : onClose}>
          {notMember ? 'Close' : 'Cancel'}
        </button>
        <MutationError error={state.error} />
        {notMember && (
          <p className="mutation-error" role="alert">
            {member.subject} was not a member any more.
          </p>
        )}
      </div>
    </Modal>
  );
}
