import { useState } from 'react';
import { useMutation } from 'urql';
import { useProject, useViewer } from '../../projects/ProjectContext';
import { MutationError } from '../../ui/states';
import { approvalPrompt, approversText, judgementPrompt, mayApprove, type StageRunFields } from './model';
import { RunPageApprove, RunPageJudge } from './queries';

type Decision = 'CONTINUE' | 'STOP';

/** A waiting JUDGEMENT: one button per option (CONTINUE with it), or "Continue", and "Stop". */
export function JudgementControls({ runId, stage }: { runId: string; stage: StageRunFields }) {
  const project = useProject();
  const prompt = judgementPrompt(stage.prompt);
  const [result, judge] = useMutation(RunPageJudge);
  const [pending, setPending] = useState<string | null>(null);
  const decide = async (decision: Decision, value?: string) => {
    setPending(value ?? decision);
    await judge({ runId, refId: stage.refId, decision, value });
    setPending(null);
  };
  const disabled = !project.canWrite || result.fetching;
  return (
    <div className="runs-decision">
      {prompt.description && <p className="runs-prompt">{prompt.description}</p>}
      <div className="actions" role="group" aria-label={`Decide ${stage.name}`}>
        {prompt.options.length ? (
          prompt.options.map((o) => (
            <button key={o} type="button" className="primary" disabled={disabled} aria-busy={pending === o || undefined} onClick={() => decide('CONTINUE', o)}>
              {o}
            </button>
          ))
        ) : (
          <button type="button" className="primary" disabled={disabled} onClick={() => decide('CONTINUE')}>
            Continue
          </button>
        )}
        <button type="button" className="danger" disabled={disabled} onClick={() => decide('STOP')}>
          Stop
        </button>
        {result.fetching && <span className="muted">Sending…</span>}
      </div>
      {!project.canWrite && <p className="muted runs-note">Deciding a judgement needs DEVELOPER or ADMIN in this project.</p>}
      <MutationError error={result.error} />
    </div>
  );
}

/** A waiting APPROVAL: "Approve" (CONTINUE) and "Reject" (STOP) with a comment, for its approvers only. */
export function ApprovalControls({ runId, stage, idPrefix }: { runId: string; stage: StageRunFields; idPrefix: string }) {
  const project = useProject();
  const viewer = useViewer();
  const prompt = approvalPrompt(stage.prompt);
  const [comment, setComment] = useState('');
  const [result, approve] = useMutation(RunPageApprove);
  const may = mayApprove(prompt, { sub: viewer.sub, roles: project.roles, canApprove: project.canApprove });
  const disabled = !may || result.fetching;
  const decide = (decision: Decision) => approve({ runId, refId: stage.refId, decision, comment: comment.trim() || undefined });
  const commentId = `${idPrefix}-approval-comment-${stage.refId}`;
  const noteId = `${idPrefix}-approval-note-${stage.refId}`;
  return (
    <div className="runs-decision">
      {prompt.message && <p className="runs-prompt">{prompt.message}</p>}
      {prompt.description && <p className="muted">{prompt.description}</p>}
      <div className="field">
        <label htmlFor={commentId}>Comment</label>
        <textarea id={commentId} rows={2} value={comment} disabled={!may} onChange={(e) => setComment(e.target.value)} />
      </div>
      <div className="actions" role="group" aria-label={`Decide ${stage.name}`}>
        <button type="button" className="primary" disabled={disabled} aria-describedby={may ? undefined : noteId} onClick={() => decide('CONTINUE')}>
          Approve
        </button>
        <button type="button" className="danger" disabled={disabled} aria-describedby={may ? undefined : noteId} onClick={() => decide('STOP')}>
          Reject
        </button>
        {result.fetching && <span className="muted">Sending…</span>}
      </div>
      {!may && (
        <p id={noteId} className="runs-note">
          Only {approversText(prompt)} may approve
          {viewer.platformAdmin && !project.roles.length ? ' (a platform ADMIN may not decide approvals)' : ''}; you are signed in as {viewer.sub}
          {project.roles.length ? ` with ${project.roles.join(', ')}` : ''}.
        </p>
      )}
      <MutationError error={result.error} />
    </div>
  );
}

export function DecisionControls({ runId, stage, idPrefix }: { runId: string; stage: StageRunFields; idPrefix: string }) {
  if (stage.status !== 'WAITING') return null;
  if (stage.type === 'JUDGEMENT') return <JudgementControls runId={runId} stage={stage} />;
  if (stage.type === 'APPROVAL') return <ApprovalControls runId={runId} stage={stage} idPrefix={idPrefix} />;
  return null;
}
