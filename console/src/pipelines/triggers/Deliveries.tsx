import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';
import type { DeliveryOutcome, PipelineTriggerDeliveriesQuery } from '../../gql/graphql';
import { useProject } from '../../projects/ProjectContext';
import { formatTime, runUrl } from '../../runs/format';
import { ErrorState, Loading, MutationError, errorMessage } from '../../ui/states';
import { TriggerDeliveriesQuery, TriggerRedeliverMutation } from './operations';
import type { TriggerFields } from './TriggerForm';

export const DELIVERY_PAGE = 20;

type Delivery = NonNullable<PipelineTriggerDeliveriesQuery['trigger']>['deliveries']['edges'][number]['node'];
interface PageEnd {
  hasNextPage: boolean;
  endCursor: string | null | undefined;
  totalCount: number;
}

/** The run status classes the outcome badges borrow. */
const OUTCOME_CLASS: Record<DeliveryOutcome, string> = { PENDING: 'status-PENDING', STARTED: 'status-SUCCEEDED', IGNORED: 'status-SKIPPED', REJECTED: 'status-FAILED' };
const COLUMNS = 7;

function emptyText(t: TriggerFields): string {
  switch (t.type) {
    case 'CRON':
      return t.nextFireAt ? `No deliveries yet: the schedule first fires ${formatTime(t.nextFireAt)}.` : 'No deliveries yet.';
    case 'PIPELINE':
      return 'No deliveries yet: one comes when a run of the upstream pipeline ends.';
    default:
      return 'No deliveries yet: the provider has not sent an event to the hook URL.';
  }
}

/**
 * A trigger's deliveries, newest first: a page at a time ("Load older deliveries"), each with its
 * outcome, why, and its run; "Redeliver" for the IGNORED or REJECTED ones the server kept. Not
 * live (the API has no subscription for deliveries): "Refresh" reads them again.
 */
export function Deliveries({ trigger, readOnly }: { trigger: TriggerFields; readOnly: boolean }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [ends, setEnds] = useState<Record<number, PageEnd>>({});
  const [epoch, setEpoch] = useState(0);
  const [notice, setNotice] = useState('');
  const refresh = useCallback(() => {
    setCursors([null]);
    setEnds({});
    setEpoch((e) => e + 1);
  }, []);
  const onPage = useCallback((index: number, end: PageEnd) => setEnds((e) => (e[index]?.endCursor === end.endCursor && e[index]?.hasNextPage === end.hasNextPage && e[index]?.totalCount === end.totalCount ? e : { ...e, [index]: end })), []);
  const onRedelivered = useCallback(
    (d: { outcome: DeliveryOutcome }) => {
      setNotice(`Redelivered as a new delivery (${d.outcome}), at the top of the list.`);
      refresh();
    },
    [refresh],
  );
  const last = ends[cursors.length - 1];
  const total = ends[0]?.totalCount;
  const label = `Deliveries of ${trigger.name}`;
  return (
    <section className="trigger-deliveries" aria-label={label}>
      <div className="toolbar">
        <h3>Deliveries</h3>
        {total !== undefined && <span className="muted">{total === 1 ? '1 in all' : `${total} in all`}, newest first</span>}
        <span className="spacer" />
        <span className="muted small" role="status">
          {notice}
        </span>
        <button
          type="button"
          onClick={() => {
            setNotice('');
            refresh();
          }}
        >
          Refresh
        </button>
      </div>
      <table className="trigger-deliveries-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Event</th>
            <th scope="col">Delivery id</th>
            <th scope="col">Outcome</th>
            <th scope="col">Summary / reason</th>
            <th scope="col">Run</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        {cursors.map((after, i) => (
          <DeliveryPage key={`${epoch}-${i}`} trigger={trigger} after={after} index={i} fresh={epoch > 0} onPage={onPage} onRedelivered={onRedelivered} readOnly={readOnly} />
        ))}
      </table>
      {last?.hasNextPage && (
        <div className="actions">
          <button type="button" onClick={() => setCursors((c) => [...c, last.endCursor ?? null])}>
            Load older deliveries
          </button>
        </div>
      )}
    </section>
  );
}

function DeliveryPage({
  trigger,
  after,
  index,
  fresh,
  onPage,
  onRedelivered,
  readOnly,
}: {
  trigger: TriggerFields;
  after: string | null;
  index: number;
  fresh: boolean;
  onPage: (index: number, end: PageEnd) => void;
  onRedelivered: (d: { outcome: DeliveryOutcome }) => void;
  readOnly: boolean;
}) {
  const [{ data, fetching, error }] = useQuery({ query: TriggerDeliveriesQuery, variables: { id: trigger.id, first: DELIVERY_PAGE, after }, requestPolicy: fresh ? 'network-only' : undefined });
  const conn = data?.trigger?.deliveries;
  useEffect(() => {
    if (conn) onPage(index, { hasNextPage: conn.pageInfo.hasNextPage, endCursor: conn.pageInfo.endCursor, totalCount: conn.totalCount });
  }, [conn, index, onPage]);
  const only = (content: ReactNode) => (
    <tbody>
      <tr>
        <td colSpan={COLUMNS}>{content}</td>
      </tr>
    </tbody>
  );
  if (error) return only(<ErrorState title="Could not load the deliveries" message={errorMessage(error)} />);
  if (!data) return fetching ? only(<Loading label="Loading deliveries" />) : null;
  if (!data.trigger) return only(<p className="muted">This trigger is gone (deleted meanwhile).</p>);
  if (!conn?.edges.length) return index === 0 ? only(<p className="muted">{emptyText(trigger)}</p>) : null;
  return (
    <tbody aria-busy={fetching || undefined}>
      {conn.edges.map(({ node }) => (
        <DeliveryRow key={node.id} delivery={node} onRedelivered={onRedelivered} readOnly={readOnly} />
      ))}
    </tbody>
  );
}

function DeliveryRow({ delivery: d, onRedelivered, readOnly }: { delivery: Delivery; onRedelivered: (d: { outcome: DeliveryOutcome }) => void; readOnly: boolean }) {
  const project = useProject();
  const [state, redeliver] = useMutation(TriggerRedeliverMutation);
  const name = d.providerDeliveryId ?? d.id;
  const run = async () => {
    const r = await redeliver({ id: d.id });
    if (r.data) onRedelivered(r.data.redeliverTriggerDelivery);
  };
  return (
    <tr>
      <td>
        <time dateTime={d.receivedAt}>{formatTime(d.receivedAt)}</time>
      </td>
      <td className="mono">{d.event}</td>
      <td className="mono trigger-delivery-id">{d.providerDeliveryId ?? <span className="muted">—</span>}</td>
      <td>
        <span className={`status ${OUTCOME_CLASS[d.outcome]}`} aria-label={`Outcome: ${d.outcome}`}>
          {d.outcome}
        </span>
        {d.redeliveryOf && <div className="muted small">a redelivery</div>}
      </td>
      <td className="trigger-delivery-text">
        {d.summary && <div>{d.summary}</div>}
        {d.reason && <div className={d.outcome === 'REJECTED' ? 'trigger-reason-rejected' : 'muted'}>{d.reason}</div>}
        {!d.summary && !d.reason && <span className="muted">—</span>}
      </td>
      <td>
        {d.runId ? (
          <Link to={runUrl(project.slug, d.runId)} aria-label={d.run ? `Run #${d.run.number} (${d.run.status})` : `Run ${d.runId}`}>
            {d.run ? (
              <>
                #{d.run.number} <span className={`status status-${d.run.status}`}>{d.run.status}</span>
              </>
            ) : (
              'the run'
            )}
          </Link>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="row-actions">
        {d.canRedeliver && !readOnly && (
          <button type="button" onClick={() => void run()} disabled={state.fetching} aria-label={`Redeliver ${name}`}>
            {state.fetching && <span className="spinner" aria-hidden />} Redeliver
          </button>
        )}
        <MutationError error={state.error} />
      </td>
    </tr>
  );
}
