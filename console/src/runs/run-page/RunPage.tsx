import { useCallback, useEffect, useMemo, useRef } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { useQuery } from 'urql';
import { StageGraph, prewarmLayout, type GraphStage } from '../../ui/run-graph';
import { Empty, ErrorState, Loading, errorMessage } from '../../ui/states';
import { RunHeader } from './RunHeader';
import { StageDrawer } from './StageDrawer';
import { WaitingPanel } from './WaitingPanel';
import { graphStagesOf, stateMapOf, type RunFields } from './model';
import { RunPagePipelineQuery } from './queries';
import { useLiveRun } from './useLiveRun';

/** The same array while the structure is the same, so the graph never rebuilds its nodes for a refetch. */
function useStableStages(stages: GraphStage[] | null): GraphStage[] | null {
  const ref = useRef<{ sig: string; stages: GraphStage[] } | null>(null);
  return useMemo(() => {
    if (!stages) return null;
    const sig = stages.map((s) => `${s.refId}\u0001${s.name}\u0001${s.type}\u0001${s.dependsOn.join(',')}`).join('\u0002');
    if (ref.current?.sig !== sig) ref.current = { sig, stages };
    return ref.current.stages;
  }, [stages]);
}

function RunView({ run }: { run: RunFields }) {
  const [search, setSearch] = useSearchParams();
  const openRefId = search.get('stage');
  const [{ data: pdata, error: perror, fetching: pfetching }] = useQuery({ query: RunPagePipelineQuery, variables: { id: run.pipelineId, revision: run.revision } });
  const revision = pdata?.pipeline;
  const ready = !!pdata || !!perror;
  const rawStages = useMemo(() => (ready ? graphStagesOf(revision, run) : null), [ready, revision, run]);
  const stages = useStableStages(rawStages);
  const states = useMemo(() => stateMapOf(run), [run]);

  const open = useCallback(
    (refId: string) =>
      setSearch(
        (s) => {
          const n = new URLSearchParams(s);
          n.set('stage', refId);
          return n;
        },
        { replace: false },
      ),
    [setSearch],
  );
  const close = useCallback(
    () =>
      setSearch((s) => {
        const n = new URLSearchParams(s);
        n.delete('stage');
        return n;
      }),
    [setSearch],
  );
  const openStage = openRefId ? run.stages.find((s) => s.refId === openRefId) : undefined;
  const openConfig = openRefId ? revision?.stages.find((s) => s.refId === openRefId) : undefined;

  return (
    <div className={`runs-run-page${openStage ? ' runs-with-drawer' : ''}`}>
      <RunHeader run={run} />
      <WaitingPanel run={run} openRefId={openStage ? openRefId : null} onOpen={open} />
      {perror && (
        <p className="mutation-error" role="alert">
          Cannot read revision {run.revision} of the pipeline ({errorMessage(perror)}): the graph shows the run's stages without their dependencies.
        </p>
      )}
      {!perror && !pfetching && pdata && !revision && <p className="muted">Revision {run.revision} of the pipeline is gone: the graph shows the run's stages without their dependencies.</p>}
      <div className="runs-graph">
        {stages ? <StageGraph stages={stages} states={states} selectedRefId={openRefId} onOpen={open} ariaLabel={`Stages of run #${run.number}`} /> : <Loading label="Loading the pipeline's stages" />}
      </div>
      {openRefId && !openStage && (
        <aside className="drawer runs-drawer" aria-label="Stage details">
          <Empty title={`This run has no stage "${openRefId}"`} />
          <button type="button" onClick={close}>
            Close
          </button>
        </aside>
      )}
      {openStage && <StageDrawer run={run} stage={openStage} config={openConfig} onClose={close} />}
    </div>
  );
}

function RunPageBody({ runId }: { runId: string }) {
  const { run, fetching, error, missing, liveError } = useLiveRun(runId);
  if (error) return <ErrorState message={errorMessage(error)} />;
  if (missing) return <Empty title="No such run">There is no run {runId}, or it has been deleted.</Empty>;
  if (!run) return fetching ? <Loading label="Loading the run" /> : <Loading label="Waiting for the run" />;
  return (
    <>
      {liveError && (
        <p className="mutation-error" role="alert">
          Live updates stopped: {errorMessage(liveError)}
        </p>
      )}
      <RunView run={run} />
    </>
  );
}

/** `/p/:project/runs/:runId` (`?stage=<refId>` opens a stage's drawer). */
export function RunPage() {
  const { runId = '' } = useParams();
  useEffect(() => prewarmLayout(), []);
  return <RunPageBody key={runId} runId={runId} />;
}
