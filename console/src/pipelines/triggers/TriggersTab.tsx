import { Fragment, useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import type { TriggerType } from '../../gql/graphql';
import { useProject } from '../../projects/ProjectContext';
import { formatTime } from '../../runs/format';
import { CopyField } from '../../ui/CopyField';
import { Modal } from '../../ui/Modal';
import { Pager, usePager } from '../../ui/Pager';
import type { ResourceKind } from '../../ui/schema-form';
import { Empty, ErrorState, Loading, MutationError, errorMessage } from '../../ui/states';
import { PICKER_PAGE } from '../editor/ResourceSelect';
import { ResourceQueries } from '../operations';
import { Deliveries } from './Deliveries';
import { TriggerDeleteMutation, TriggerRotateSecretMutation, TriggersQuery, TriggerUpdateMutation } from './operations';
import { TriggerForm, type PipelineParameter, type TriggerFields } from './TriggerForm';
import { ProviderSetup, TriggerSecretPanel } from './TriggerSecret';
import { describeConfig, triggerTypeInfo, type NameOf } from './trigger-types';
import './triggers.css';

/** The kind of resource a type's config names, for the description. */
const RESOURCE_OF: Partial<Record<TriggerType, ResourceKind>> = { GIT_PUSH: 'SOURCE_REPOSITORY', GIT_TAG: 'SOURCE_REPOSITORY', IMAGE_PUSH: 'IMAGE_REGISTRY', PIPELINE: 'PIPELINE' };

/** The names of the repositories, registries and pipelines the triggers name (the pickers' lists, so usually cached). */
function useResourceNames(triggers: TriggerFields[]): NameOf {
  const project = useProject();
  const unused = (kind: ResourceKind) => !triggers.some((t) => RESOURCE_OF[t.type] === kind);
  const variables = { projectId: project.id, first: PICKER_PAGE };
  const [repos] = useQuery({ query: ResourceQueries.SOURCE_REPOSITORY, variables, pause: unused('SOURCE_REPOSITORY') });
  const [registries] = useQuery({ query: ResourceQueries.IMAGE_REGISTRY, variables, pause: unused('IMAGE_REGISTRY') });
  const [pipelines] = useQuery({ query: ResourceQueries.PIPELINE, variables, pause: unused('PIPELINE') });
  return useMemo(() => {
    const names = new Map<string, string>();
    const add = (kind: ResourceKind, edges: { node: { id: string; name: string } }[] | undefined) => edges?.forEach((e) => names.set(`${kind}:${e.node.id}`, e.node.name));
    add('SOURCE_REPOSITORY', repos.data?.items.edges);
    add('IMAGE_REGISTRY', registries.data?.items.edges);
    add('PIPELINE', pipelines.data?.items.edges);
    return (kind, id) => names.get(`${kind}:${id}`);
  }, [repos.data, registries.data, pipelines.data]);
}

export interface TriggersTabProps {
  pipelineId: string;
  /** The saved pipeline's parameters, for the templates. */
  parameters: PipelineParameter[];
  readOnly: boolean;
}

/**
 * The pipeline's triggers (server-paged): what each reacts to, its hook URL, on/off; create and
 * edit (TriggerForm), delete, rotate the secret (shown once, as after creating), and each one's
 * deliveries (`?trigger=<id>` opens them, so a run can link to its trigger's).
 */
export function TriggersTab({ pipelineId, parameters, readOnly }: TriggersTabProps) {
  const pager = usePager();
  const [params, setParams] = useSearchParams();
  const openId = params.get('trigger');
  const [{ data, fetching, error }, reexecute] = useQuery({ query: TriggersQuery, variables: { pipelineId, ...pager.variables } });
  const refetch = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  // Triggers as the last mutation returned them (until the list is read again).
  const [updated, setUpdated] = useState<Record<string, TriggerFields>>({});
  useEffect(() => setUpdated({}), [data]);
  const conn = data?.triggers;
  const triggers = useMemo(() => (conn?.edges ?? []).map((e) => updated[e.node.id] ?? e.node), [conn, updated]);
  const nameOf = useResourceNames(triggers);

  const [form, setForm] = useState<TriggerFields | 'new' | null>(null);
  const [shown, setShown] = useState<{ trigger: TriggerFields; secret: string | null; rotated: boolean } | null>(null);
  const [deleting, setDeleting] = useState<TriggerFields | null>(null);
  const [rotating, setRotating] = useState<TriggerFields | null>(null);
  const closeForm = useCallback(() => setForm(null), []);
  const closeDelete = useCallback(() => setDeleting(null), []);
  const closeRotate = useCallback(() => setRotating(null), []);

  const setOpen = (id: string | null) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (id) next.set('trigger', id);
        else next.delete('trigger');
        return next;
      },
      { replace: true },
    );

  let body;
  if (error && !conn) body = <ErrorState title="Could not load the triggers" message={errorMessage(error)} action={<button type="button" onClick={refetch}>Retry</button>} />;
  else if (!conn) body = fetching ? <Loading label="Loading triggers" /> : null;
  else if (!triggers.length)
    body = <Empty title="No triggers yet">{readOnly ? 'Runs of this pipeline start by hand. A DEVELOPER or ADMIN of the project can add triggers.' : 'Runs start by hand until you add one with “New trigger”: a push, a tag, an image, a schedule, another pipeline or a webhook.'}</Empty>;
  else
    body = (
      <>
        {error && <p className="mutation-error" role="alert">{errorMessage(error)}</p>}
        <table className="triggers-table" aria-label="Triggers" aria-busy={fetching || undefined}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Enabled</th>
              <th scope="col">Reacts to</th>
              <th scope="col">Hook URL</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {triggers.map((t) => {
              const open = openId === t.id;
              return (
                <Fragment key={t.id}>
                  <tr className={open ? 'trigger-open' : undefined}>
                    <th scope="row" className="trigger-name">
                      {t.name}
                    </th>
                    <td>
                      <span className="trigger-type" title={triggerTypeInfo(t.type).description}>
                        {t.type}
                      </span>
                    </td>
                    <td>
                      <EnabledSwitch trigger={t} readOnly={readOnly} onUpdated={(u) => setUpdated((m) => ({ ...m, [u.id]: u }))} />
                    </td>
                    <td className="trigger-describe">
                      {describeConfig(t.type, t.config, nameOf)}
                      {t.type === 'CRON' && t.nextFireAt && t.enabled && <div className="muted small">next: {formatTime(t.nextFireAt)}</div>}
                    </td>
                    <td className="trigger-hook">{t.hookUrl ? <code>{t.hookUrl}</code> : <span className="muted">—</span>}</td>
                    <td className="row-actions">
                      <button type="button" aria-expanded={open} aria-controls={`trigger-details-${t.id}`} aria-label={`Details of ${t.name}`} onClick={() => setOpen(open ? null : t.id)}>
                        {open ? 'Hide details' : 'Details'}
                      </button>
                      {!readOnly && (
                        <>
                          <button type="button" aria-label={`Edit ${t.name}`} onClick={() => setForm(t)}>
                            Edit
                          </button>
                          {t.hasSecret && (
                            <button type="button" aria-label={`Rotate secret of ${t.name}`} onClick={() => setRotating(t)}>
                              Rotate secret
                            </button>
                          )}
                          <button type="button" className="danger" aria-label={`Delete ${t.name}`} onClick={() => setDeleting(t)}>
                            Delete
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                  {open && (
                    <tr className="trigger-details-row" id={`trigger-details-${t.id}`}>
                      <td colSpan={6}>
                        <TriggerDetails trigger={t} readOnly={readOnly} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
        <Pager pager={pager} pageInfo={conn.pageInfo} totalCount={conn.totalCount} />
      </>
    );

  return (
    <section className="triggers-tab" aria-label="Triggers">
      <div className="toolbar">
        <span className="muted">What starts runs of this pipeline by itself. Changes take effect at once (they are not part of the pipeline&apos;s Save).</span>
        <span className="spacer" />
        {!readOnly && !form && (
          <button
            type="button"
            className="primary"
            onClick={() => {
              setShown(null);
              setForm('new');
            }}
          >
            New trigger
          </button>
        )}
      </div>
      {shown && <TriggerSecretPanel trigger={shown.trigger} secret={shown.secret} rotated={shown.rotated} onDone={() => setShown(null)} />}
      {form && (
        <TriggerForm
          key={form === 'new' ? 'new' : form.id}
          pipelineId={pipelineId}
          parameters={parameters}
          trigger={form === 'new' ? null : form}
          onCancel={closeForm}
          onSaved={(saved) => {
            if (form === 'new') {
              if (saved.secret || saved.trigger.hookUrl) setShown({ ...saved, rotated: false });
              refetch();
            } else setUpdated((m) => ({ ...m, [saved.trigger.id]: saved.trigger }));
            setForm(null);
          }}
        />
      )}
      {body}
      {deleting && (
        <DeleteTrigger
          trigger={deleting}
          onClose={closeDelete}
          onDeleted={() => {
            if (openId === deleting.id) setOpen(null);
            if (shown?.trigger.id === deleting.id) setShown(null);
            setDeleting(null);
            refetch();
          }}
        />
      )}
      {rotating && (
        <RotateSecret
          trigger={rotating}
          onClose={closeRotate}
          onRotated={(r) => {
            setRotating(null);
            setUpdated((m) => ({ ...m, [r.trigger.id]: r.trigger }));
            setShown({ ...r, rotated: true });
          }}
        />
      )}
    </section>
  );
}

/** On/off: `updateTrigger(enabled)`, at once. */
function EnabledSwitch({ trigger: t, readOnly, onUpdated }: { trigger: TriggerFields; readOnly: boolean; onUpdated: (t: TriggerFields) => void }) {
  const [state, update] = useMutation(TriggerUpdateMutation);
  const toggle = async (enabled: boolean) => {
    const r = await update({ id: t.id, input: { enabled } });
    if (r.data) onUpdated(r.data.updateTrigger);
  };
  return (
    <span className="trigger-enabled">
      <label className="switch">
        <input type="checkbox" role="switch" aria-label={`Enable ${t.name}`} checked={t.enabled} disabled={readOnly || state.fetching} onChange={(e) => void toggle(e.target.checked)} />
        <span aria-hidden>{t.enabled ? 'on' : 'off'}</span>
      </label>
      {state.fetching && <span className="spinner" aria-label="Saving" />}
      <MutationError error={state.error} />
    </span>
  );
}

/** The open trigger: its hook URL, how to set up the provider, when it was made, its deliveries. */
function TriggerDetails({ trigger: t, readOnly }: { trigger: TriggerFields; readOnly: boolean }) {
  return (
    <div className="trigger-details">
      <dl className="trigger-facts">
        <div>
          <dt>Created</dt>
          <dd>
            {formatTime(t.createdAt)} <span className="muted">by {t.createdBy}</span>
          </dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>{formatTime(t.updatedAt)}</dd>
        </div>
        {t.type === 'CRON' && (
          <div>
            <dt>Next run</dt>
            <dd>{t.enabled ? (t.nextFireAt ? <time dateTime={t.nextFireAt}>{formatTime(t.nextFireAt)}</time> : '—') : <span className="muted">off</span>}</dd>
          </div>
        )}
        {t.hookUrl && (
          <div>
            <dt>Secret</dt>
            <dd>{t.hasSecret ? 'set (shown only when created or rotated)' : <span className="muted">none</span>}</dd>
          </div>
        )}
      </dl>
      {t.hookUrl && (
        <>
          <CopyField id={`trigger-${t.id}-hook-url`} label="Hook URL" value={t.hookUrl} hint="Where the provider must send its events (POST)." />
          <ProviderSetup idPrefix={`trigger-${t.id}`} type={t.type} hookUrl={t.hookUrl} secret={null} />
        </>
      )}
      <Deliveries trigger={t} readOnly={readOnly} />
    </div>
  );
}

function DeleteTrigger({ trigger, onClose, onDeleted }: { trigger: TriggerFields; onClose: () => void; onDeleted: () => void }) {
  const [state, remove] = useMutation(TriggerDeleteMutation);
  const run = async () => {
    const r = await remove({ id: trigger.id });
    if (!r.error) onDeleted();
  };
  return (
    <Modal title={`Delete trigger ${trigger.name}?`} onClose={onClose}>
      <p>
        Delete the trigger <strong>{trigger.name}</strong>? It stops starting runs at once{trigger.hookUrl ? ' and its hook URL refuses events' : ''}; runs it started are kept. This cannot be undone.
      </p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => void run()} disabled={state.fetching}>
          {state.fetching && <span className="spinner" aria-hidden />} Delete
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <MutationError error={state.error} />
      </div>
    </Modal>
  );
}

function RotateSecret({ trigger, onClose, onRotated }: { trigger: TriggerFields; onClose: () => void; onRotated: (r: { trigger: TriggerFields; secret: string | null }) => void }) {
  const [state, rotate] = useMutation(TriggerRotateSecretMutation);
  const run = async () => {
    const r = await rotate({ id: trigger.id });
    if (r.data) onRotated(r.data.rotateTriggerSecret);
  };
  return (
    <Modal title={`Rotate the secret of ${trigger.name}?`} onClose={onClose}>
      <p>
        A new secret is made and shown once. The old one stops working at once: events signed with it are refused until the provider has the new one.
      </p>
      <div className="actions">
        <button type="button" className="danger" onClick={() => void run()} disabled={state.fetching}>
          {state.fetching && <span className="spinner" aria-hidden />} Rotate secret
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <MutationError error={state.error} />
      </div>
    </Modal>
  );
}
