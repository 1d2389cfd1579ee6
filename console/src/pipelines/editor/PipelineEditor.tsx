import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useClient, useMutation, useQuery, type CombinedError } from 'urql';
import type { PipelineEditorFieldsFragment } from '../../gql/graphql';
import { useProject } from '../../projects/ProjectContext';
import { RunPipelineButton } from '../../runs/RunPipelineButton';
import { fieldErrors } from '../../ui/errors';
import { useUnsavedChanges } from '../../ui/useUnsavedChanges';
import type { JsonSchema } from '../../ui/schema-form';
import { Empty, ErrorState, Loading, MutationError, errorMessage } from '../../ui/states';
import { fromPipeline, sameDraft, splitErrors, toInput, type DraftPipeline, type DraftStage, type SplitErrors, type StageTypeInfo } from '../draft';
import { PipelineEditorQuery, PipelineSaveMutation, PipelineStageTypesQuery } from '../operations';
import '../pipelines.css';
import { TriggersTab } from '../triggers/TriggersTab';
import { ParametersTab } from './ParametersTab';
import { RevisionsTab } from './RevisionsTab';
import { SettingsTab } from './SettingsTab';
import { StagesTab } from './StagesTab';
import { YamlTab } from './YamlTab';

const TABS = [
  { id: 'stages', label: 'Stages' },
  { id: 'parameters', label: 'Parameters' },
  { id: 'triggers', label: 'Triggers' },
  { id: 'yaml', label: 'YAML' },
  { id: 'revisions', label: 'Revisions' },
  { id: 'settings', label: 'Settings' },
] as const;
type TabId = (typeof TABS)[number]['id'];

const NO_ERRORS: SplitErrors = { pipeline: {}, parameters: {}, stages: {}, unclaimed: [] };

function codeOf(error: CombinedError | undefined): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `/p/:project/pipelines/:pipelineId`: the editor. */
export function PipelineEditor() {
  const { pipelineId = '' } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: PipelineEditorQuery, variables: { id: pipelineId } });
  const [types] = useQuery({ query: PipelineStageTypesQuery });
  const stageTypes = useMemo<StageTypeInfo[] | undefined>(
    () => types.data?.stageTypes.map((t) => ({ type: t.type, group: t.group, label: t.label, description: t.description, configSchema: (t.configSchema ?? {}) as JsonSchema })),
    [types.data],
  );
  if (error) return <ErrorState title="Cannot load the pipeline" message={errorMessage(error)} />;
  if (types.error) return <ErrorState title="Cannot load the stage types" message={errorMessage(types.error)} />;
  if (!data || !stageTypes) return fetching || types.fetching || !stageTypes ? <Loading label="Loading the pipeline" /> : null;
  if (!data.pipeline) return <Empty title="No such pipeline">It was deleted, or the link is wrong.</Empty>;
  return <Editor key={data.pipeline.id} loaded={data.pipeline} stageTypes={stageTypes} />;
}

function Editor({ loaded, stageTypes }: { loaded: PipelineEditorFieldsFragment; stageTypes: StageTypeInfo[] }) {
  const project = useProject();
  const client = useClient();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const readOnly = !project.canWrite;

  // The draft and the revision it started from; a newer revision is taken over while nothing is edited.
  const [base, setBase] = useState(() => ({ pipeline: loaded, draft: fromPipeline(loaded) }));
  const [draft, setDraft] = useState<DraftPipeline>(base.draft);
  const dirty = !sameDraft(draft, base.draft);
  const [errors, setErrors] = useState<SplitErrors>(NO_ERRORS);
  const [saveError, setSaveError] = useState<CombinedError | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const resetTo = useCallback((p: PipelineEditorFieldsFragment) => {
    const d = fromPipeline(p);
    setBase({ pipeline: p, draft: d });
    setDraft(d);
    setErrors(NO_ERRORS);
    setSaveError(null);
    setConflict(null);
  }, []);
  useEffect(() => {
    if (loaded.revision > base.pipeline.revision && !dirty) resetTo(loaded);
  }, [loaded, base.pipeline.revision, dirty, resetTo]);
  useUnsavedChanges(dirty);

  const [saving, save] = useMutation(PipelineSaveMutation);
  const [reloading, setReloading] = useState(false);
  const [pendingNavigation, setPendingNavigation] = useState<string | null>(null);
  useEffect(() => {
    if (pendingNavigation && !dirty) {
      setPendingNavigation(null);
      navigate(pendingNavigation);
    }
  }, [pendingNavigation, dirty, navigate]);

  const tabParam = params.get('tab');
  const selected = params.get('stage');
  const tab: TabId = selected ? 'stages' : (TABS.find((t) => t.id === tabParam)?.id ?? 'stages');
  const setParam = useCallback(
    (patch: Record<string, string | null>) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          for (const [k, v] of Object.entries(patch)) {
            if (v === null) next.delete(k);
            else next.set(k, v);
          }
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );

  const onSave = async () => {
    setConflict(null);
    setSaveError(null);
    const refIds = draft.stages.map((s) => s.refId);
    const { input, problems } = toInput(draft);
    if (Object.keys(problems).length) {
      setErrors(splitErrors(problems, refIds, draft.parameters.length));
      return;
    }
    const r = await save({ id: loaded.id, expectedRevision: base.pipeline.revision, input });
    if (r.data) {
      resetTo(r.data.updatePipeline);
      return;
    }
    if (!r.error) return;
    if (codeOf(r.error) === 'CONFLICT' && r.error.graphQLErrors[0]?.extensions?.field === 'expectedRevision') {
      setConflict(errorMessage(r.error));
      setErrors(NO_ERRORS);
      return;
    }
    const fe = fieldErrors(r.error);
    setErrors(splitErrors(fe, refIds, draft.parameters.length));
    setSaveError(Object.keys(fe).length ? null : r.error);
  };

  const reload = async () => {
    setReloading(true);
    const r = await client.query(PipelineEditorQuery, { id: loaded.id }, { requestPolicy: 'network-only' }).toPromise();
    setReloading(false);
    if (r.data?.pipeline) resetTo(r.data.pipeline);
    else if (r.error) setSaveError(r.error);
  };

  const onStages = useCallback((update: (stages: DraftStage[]) => DraftStage[]) => setDraft((d) => ({ ...d, stages: update(d.stages) })), []);
  const claimedCount = Object.keys(errors.pipeline).length + Object.values(errors.parameters).reduce((n, e) => n + Object.keys(e).length, 0) + Object.values(errors.stages).reduce((n, e) => n + Object.keys(e).length, 0);
  const tabProblems: Record<TabId, number> = {
    stages: Object.values(errors.stages).reduce((n, e) => n + Object.keys(e).length, 0),
    parameters: Object.values(errors.parameters).reduce((n, e) => n + Object.keys(e).length, 0),
    settings: Object.keys(errors.pipeline).length,
    triggers: 0,
    yaml: 0,
    revisions: 0,
  };
  const tabRefs = useRef<Record<string, HTMLButtonElement | null>>({});
  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const next = e.key === 'ArrowRight' ? (i + 1) % TABS.length : e.key === 'ArrowLeft' ? (i - 1 + TABS.length) % TABS.length : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    setParam({ tab: TABS[next].id === 'stages' ? null : TABS[next].id, stage: null, trigger: null });
    tabRefs.current[TABS[next].id]?.focus();
  };

  return (
    <div className="pipeline-editor">
      <header className="page-header">
        <h1>{draft.name || loaded.name}</h1>
        <span className="muted">Revision {base.pipeline.revision}</span>
        {dirty && <span className="status status-WAITING">Unsaved changes</span>}
        <span className="spacer" />
        {!readOnly && (
          <button type="button" className="primary" onClick={() => void onSave()} disabled={!dirty || saving.fetching}>
            {saving.fetching ? 'Saving…' : 'Save'}
          </button>
        )}
        <RunPipelineButton pipelineId={loaded.id} />
        <Link to={`/p/${project.slug}/runs?pipeline=${loaded.id}`}>Runs</Link>
      </header>
      <div className="save-area" aria-live="polite">
        {conflict && (
          <div className="conflict" role="alert">
            <p>
              <strong>Not saved: someone else saved this pipeline meanwhile.</strong> {conflict}
            </p>
            <button type="button" onClick={() => void reload()} disabled={reloading}>
              {reloading ? 'Reloading…' : 'Reload (discard my changes)'}
            </button>
          </div>
        )}
        {claimedCount > 0 && (
          <p className="mutation-error" role="alert">
            Not saved: {claimedCount} problem(s) are marked at their fields{tabProblems.stages ? ' (stages with problems show a badge)' : ''}.
          </p>
        )}
        {errors.unclaimed.length > 0 && (
          <ul className="mutation-error unclaimed" role="alert">
            {errors.unclaimed.map((p) => (
              <li key={p.field}>
                {p.field}: {p.message}
              </li>
            ))}
          </ul>
        )}
        <MutationError error={saveError} />
      </div>
      <div className="tabs" role="tablist" aria-label="Pipeline" onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              tabRefs.current[t.id] = el;
            }}
            type="button"
            role="tab"
            id={`pipeline-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`pipeline-panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setParam({ tab: t.id === 'stages' ? null : t.id, stage: null, trigger: null })}
          >
            {t.label}
            {tabProblems[t.id] > 0 && (
              <span className="tab-badge" aria-hidden="true">
                {tabProblems[t.id]}
              </span>
            )}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`pipeline-panel-${tab}`} aria-labelledby={`pipeline-tab-${tab}`} className="tab-panel">
        {tab === 'stages' && (
          <StagesTab
            draft={draft}
            onStages={onStages}
            types={stageTypes}
            pipelineId={loaded.id}
            selected={selected && draft.stages.some((s) => s.refId === selected) ? selected : null}
            onSelect={(refId) => setParam({ stage: refId, tab: null })}
            errors={errors.stages}
            readOnly={readOnly}
          />
        )}
        {tab === 'parameters' && <ParametersTab parameters={draft.parameters} onChange={(parameters) => setDraft((d) => ({ ...d, parameters }))} errors={errors.parameters} readOnly={readOnly} />}
        {tab === 'triggers' && <TriggersTab pipelineId={loaded.id} parameters={base.pipeline.parameters} readOnly={readOnly} />}
        {tab === 'yaml' && (
          <YamlTab
            pipelineId={loaded.id}
            projectId={project.id}
            name={base.pipeline.name}
            revision={base.pipeline.revision}
            dirty={dirty}
            readOnly={readOnly}
            onImported={(p) => {
              if (p.id === loaded.id) resetTo(p);
              else {
                setDraft(base.draft);
                setPendingNavigation(`/p/${project.slug}/pipelines/${p.id}`);
              }
            }}
          />
        )}
        {tab === 'revisions' && <RevisionsTab pipelineId={loaded.id} latestRevision={Math.max(loaded.latestRevision, base.pipeline.latestRevision)} baseRevision={base.pipeline.revision} dirty={dirty} readOnly={readOnly} onRestored={resetTo} />}
        {tab === 'settings' && <SettingsTab draft={draft} onChange={(patch) => setDraft((d) => ({ ...d, ...patch }))} errors={errors.pipeline} readOnly={readOnly} />}
      </div>
    </div>
  );
}
