import { Link } from 'react-router';
import type { TriggerType } from '../gql/graphql';
import { triggerUrl } from './format';

export interface RunTriggerFields {
  type: TriggerType;
  triggerId: string;
  deliveryId: string;
  summary: string;
}

/** What started a run when a trigger did, as one line: "GIT_PUSH: push to main by alice: abc1234". */
export const runTriggerText = (t: RunTriggerFields) => `${t.type}: ${t.summary}`;

/** The trigger line of a run; with `link`, to the trigger's deliveries on its pipeline's Triggers tab. */
export function RunTrigger({ trigger, slug, pipelineId }: { trigger: RunTriggerFields; slug?: string; pipelineId?: string }) {
  const text = <span className="runs-trigger">{runTriggerText(trigger)}</span>;
  if (!slug || !pipelineId) return text;
  return (
    <>
      {text}{' '}
      <Link to={triggerUrl(slug, pipelineId, trigger.triggerId)} className="runs-trigger-link">
        View trigger
      </Link>
    </>
  );
}
