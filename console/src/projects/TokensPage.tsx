import { useCallback, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { ProjectRole } from '../gql/graphql';
import { CopyField } from '../ui/CopyField';
import { fieldErrors } from '../ui/errors';
import { FieldError, fieldErrorId } from '../ui/FieldError';
import { Modal } from '../ui/Modal';
import { Pager, usePager } from '../ui/Pager';
import { Empty, ErrorState, Loading, MutationError, errorMessage } from '../ui/states';
import { useProject } from './ProjectContext';
import { RoleCheckboxes, RoleList } from './RoleCheckboxes';
import './members.css';

const TokensQuery = graphql(`
  query TokensList($id: ID!, $first: Int, $after: String, $includeRevoked: Boolean!) {
    project(id: $id) {
      id
      apiTokens(first: $first, after: $after, includeRevoked: $includeRevoked) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id name roles createdAt createdBy expiresAt lastUsedAt revokedAt } }
      }
    }
  }
`);

const CreateTokenMutation = graphql(`
  mutation TokensCreate($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      token
      apiToken { id name roles createdAt createdBy expiresAt lastUsedAt revokedAt }
    }
  }
`);

const RevokeTokenMutation = graphql(`
  mutation TokensRevoke($id: ID!) {
    revokeApiToken(id: $id) { id revokedAt }
  }
`);

interface Token {
  id: string;
  name: string;
  revokedAt: string | null;
  expiresAt: string | null;
}

const formatTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function tokenStatus(t: Token, now = Date.now()): 'revoked' | 'expired' | 'active' {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

/** `/p/:project/tokens`: API tokens for CI systems and scripts (project admins only). */
export function TokensPage() {
  const project = useProject();
  return (
    <div>
      <div className="page-header">
        <h1>API tokens</h1>
        <span className="muted">of {project.name}</span>
      </div>
      {project.canAdmin ? (
        <Tokens projectId={project.id} />
      ) : (
        <Empty title="Only project admins manage API tokens">Ask an admin of {project.name} for a token for your CI system or script.</Empty>
      )}
    </div>
  );
}

function Tokens({ projectId }: { projectId: string }) {
  const pager = usePager();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const [{ data, fetching, error }, reexecute] = useQuery({ query: TokensQuery, variables: { id: projectId, ...pager.variables, includeRevoked } });
  const refetch = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const closeRevoke = useCallback(() => setRevoking(null), []);

  const tokens = data?.project?.apiTokens;
  let body;
  if (error && !tokens) body = <ErrorState title="Could not load the API tokens" message={errorMessage(error)} action={<button type="button" onClick={refetch}>Retry</button>} />;
  else if (!data) body = <Loading label="Loading API tokens" />;
  else if (!tokens) body = <Empty title="This project is gone">It may have been deleted.</Empty>;
  else if (!tokens.edges.length) body = <Empty title={includeRevoked ? 'No API tokens' : 'No active API tokens'}>Create one with “New API token”.</Empty>;
  else
    body = (
      <>
        <table className="members-table" aria-label="API tokens" aria-busy={fetching || undefined}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Roles</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.edges.map(({ node: t }) => {
              const status = tokenStatus(t);
              return (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th>
                  <td>
                    <RoleList roles={t.roles} />
                  </td>
                  <td>
                    {formatTime(t.createdAt)} <span className="muted">by {t.createdBy}</span>
                  </td>
                  <td>{t.expiresAt ? formatTime(t.expiresAt) : <span className="muted">never</span>}</td>
                  <td>{t.lastUsedAt ? formatTime(t.lastUsedAt) : <span className="muted">never</span>}</td>
                  <td className={`token-status-${status}`}>{status === 'revoked' && t.revokedAt ? `revoked ${formatTime(t.revokedAt)}` : status}</td>
                  <td className="row-actions">
                    {status !== 'revoked' && (
                      <button type="button" className="danger" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <Pager pager={pager} pageInfo={tokens.pageInfo} totalCount={tokens.totalCount} />
      </>
    );

  return (
    <>
      {created && <CreatedToken {...created} onDone={() => setCreated(null)} />}
      {creating && (
        <CreateToken
          projectId={projectId}
          onCancel={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            setCreated(c);
            refetch();
          }}
        />
      )}
      <div className="toolbar">
        <input
          id="tokens-include-revoked"
          type="checkbox"
          checked={includeRevoked}
          onChange={(e) => {
            setIncludeRevoked(e.target.checked);
            pager.reset();
          }}
        />
        <label htmlFor="tokens-include-revoked">Show revoked</label>
        <span className="spacer" />
        {!creating && (
          <button
            type="button"
            className="primary"
            onClick={() => {
              setCreating(true);
              setCreated(null);
            }}
          >
            New API token
          </button>
        )}
      </div>
      {body}
      {revoking && <RevokeToken token={revoking} onClose={closeRevoke} onRevoked={() => {
            setRevoking(null);
            refetch();
          }} />}
    </>
  );
}

function CreateToken({ projectId, onCancel, onCreated }: { projectId: string; onCancel: () => void; onCreated: (c: { name: string; token: string }) => void }) {
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<ProjectRole[]>(['VIEWER']);
  const [days, setDays] = useState('90');
  const [state, create] = useMutation(CreateTokenMutation);
  const errors = fieldErrors(state.error);
  const claimed = ['name', 'roles', 'expiresInDays'].some((k) => errors[k]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const expiresInDays = days.trim() === '' ? null : Number(days);
    const r = await create({ input: { projectId, name: name.trim(), roles, expiresInDays: Number.isFinite(expiresInDays) ? expiresInDays : null } });
    if (r.data) onCreated({ name: r.data.createApiToken.apiToken.name, token: r.data.createApiToken.token });
  };
  const field = (id: string, key: string) => ({ id, 'aria-invalid': errors[key] ? true : undefined, 'aria-describedby': [errors[key] ? fieldErrorId(id) : '', `${id}-hint`].join(' ').trim() });
  return (
    <form className="panel token-form" onSubmit={submit} noValidate aria-label="New API token">
      <h2 className="panel-title">New API token</h2>
      <div className="form-grid">
        <label htmlFor="token-name">Name</label>
        <div className="field">
          <input {...field('token-name', 'name')} type="text" value={name} onChange={(e) => setName(e.target.value)} autoFocus autoComplete="off" />
          <span className="hint" id="token-name-hint">
            What uses it, e.g. “ci-deploy”.
          </span>
          <FieldError id="token-name" message={errors.name} />
        </div>
        <span className="form-grid-label" aria-hidden>
          Roles
        </span>
        <RoleCheckboxes idPrefix="token" value={roles} onChange={setRoles} error={errors.roles} hideLegend />
        <label htmlFor="token-expires">Expires in (days)</label>
        <div className="field">
          <input {...field('token-expires', 'expiresInDays')} type="number" min={1} max={3650} value={days} onChange={(e) => setDays(e.target.value)} />
          <span className="hint" id="token-expires-hint">
            1–3650; leave empty for a token that never expires.
          </span>
          <FieldError id="token-expires" message={errors.expiresInDays} />
        </div>
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={state.fetching}>
          {state.fetching && <span className="spinner" aria-hidden />} Create token
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <MutationError error={claimed ? null : state.error} />
      </div>
    </form>
  );
}

/** The new token, this once: a read-only field to copy from. */
function CreatedToken({ name, token, onDone }: { name: string; token: string; onDone: () => void }) {
  return (
    <section className="panel once-panel" aria-label="New token">
      <h2 className="panel-title">Token “{name}” created</h2>
      <p className="once-note" id="token-once-note">
        This token is shown only now. Copy it and keep it somewhere safe: Pipewright stores only its hash and cannot show it again.
      </p>
      <CopyField id="token-value" label="Token" value={token} describedBy="token-once-note" hint="Use it as a Bearer token: authorization: Bearer <token>" />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

function RevokeToken({ token, onClose, onRevoked }: { token: Token; onClose: () => void; onRevoked: () => void }) {
  const [state, revoke] = useMutation(RevokeTokenMutation);
  const run = async () => {
    const r = await revoke({ id: token.id });
    if (!r.error) onRevoked();
  };
  return (
    <Modal title={`Revoke ${token.name}?`} onClose={onClose}>
      <p>
        Revoke the API token <strong>{token.name}</strong>? It stops working at once; whatever uses it needs a new one.
      </p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => void run()} disabled={state.fetching}>
          {state.fetching && <span className="spinner" aria-hidden />} Revoke
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <MutationError error={state.error} />
      </div>
    </Modal>
  );
}
