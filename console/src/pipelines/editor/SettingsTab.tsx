import { useState } from 'react';
import { FieldError, fieldErrorId } from '../../ui/FieldError';
import type { DraftPipeline } from '../draft';

/** Name, description and the concurrency limit. */
export function SettingsTab({ draft, onChange, errors, readOnly }: { draft: DraftPipeline; onChange: (patch: Partial<DraftPipeline>) => void; errors: Record<string, string>; readOnly: boolean }) {
  const [maxText, setMaxText] = useState({ text: draft.maxConcurrentRuns == null ? '' : String(draft.maxConcurrentRuns), committed: draft.maxConcurrentRuns });
  if (maxText.committed !== draft.maxConcurrentRuns) setMaxText({ text: draft.maxConcurrentRuns == null ? '' : String(draft.maxConcurrentRuns), committed: draft.maxConcurrentRuns });
  const described = (id: string, hint: boolean) => [hint && `${id}-hint`, errors[id.replace('pipeline-', '')] && fieldErrorId(id)].filter(Boolean).join(' ') || undefined;
  return (
    <section className="panel" aria-label="Settings">
      <fieldset className="plain form-grid" disabled={readOnly}>
        <label htmlFor="pipeline-name">Name</label>
        <div className="field">
          <input id="pipeline-name" type="text" maxLength={100} value={draft.name} aria-invalid={Boolean(errors.name) || undefined} aria-describedby={described('pipeline-name', false)} onChange={(e) => onChange({ name: e.target.value })} />
          <FieldError id="pipeline-name" message={errors.name} />
        </div>
        <label htmlFor="pipeline-description">Description</label>
        <div className="field">
          <textarea id="pipeline-description" rows={4} maxLength={8192} value={draft.description} aria-invalid={Boolean(errors.description) || undefined} aria-describedby={described('pipeline-description', false)} onChange={(e) => onChange({ description: e.target.value })} />
          <FieldError id="pipeline-description" message={errors.description} />
        </div>
        <label htmlFor="pipeline-maxConcurrentRuns">Max concurrent runs</label>
        <div className="field">
          <input
            id="pipeline-maxConcurrentRuns"
            type="number"
            min={1}
            max={1000}
            step={1}
            placeholder="unlimited"
            value={maxText.text}
            aria-invalid={Boolean(errors.maxConcurrentRuns) || undefined}
            aria-describedby={described('pipeline-maxConcurrentRuns', true)}
            onChange={(e) => {
              const text = e.target.value;
              const n = text.trim() === '' ? null : Number(text);
              if (n !== null && !Number.isFinite(n)) return setMaxText({ text, committed: maxText.committed });
              setMaxText({ text, committed: n });
              onChange({ maxConcurrentRuns: n });
            }}
          />
          <p id="pipeline-maxConcurrentRuns-hint" className="hint">
            At most this many runs at once (1-1000); empty for unlimited.
          </p>
          <FieldError id="pipeline-maxConcurrentRuns" message={errors.maxConcurrentRuns} />
        </div>
      </fieldset>
    </section>
  );
}
