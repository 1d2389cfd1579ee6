import { useRef, useState, type RefObject } from 'react';
import { lowerFirst } from './schema-form/schema';

/**
 * A read-only value to copy (a token, a secret, a hook URL, a config snippet): labelled, selected
 * on focus, with a "Copy" button named after it ("Copy secret") and a status line saying whether
 * the copy worked (falling back to the selection when the clipboard API is refused).
 */
export function CopyField({ id, label, value, hint, describedBy, multiline }: { id: string; label: string; value: string; hint?: string; describedBy?: string; multiline?: boolean }) {
  const ref = useRef<HTMLInputElement | HTMLTextAreaElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    ref.current?.select();
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied(document.execCommand?.('copy') ? 'yes' : 'failed');
    }
  };
  const common = { id, readOnly: true, value, spellCheck: false, 'aria-describedby': describedBy, onFocus: (e: { target: { select: () => void } }) => e.target.select() };
  const status = copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Could not copy: select the text and copy it yourself.' : hint;
  return (
    <div className="field copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-value">
        {multiline ? (
          <textarea {...common} ref={ref as RefObject<HTMLTextAreaElement>} rows={Math.min(12, value.split('\n').length)} />
        ) : (
          <input {...common} ref={ref as RefObject<HTMLInputElement>} type="text" />
        )}
        <button type="button" onClick={() => void copy()} aria-label={`Copy ${lowerFirst(label)}`}>
          Copy
        </button>
      </div>
      <span className="hint" role="status">
        {status}
      </span>
    </div>
  );
}
