import { useEffect, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

/** Open dialogs, innermost last: only it answers Escape. */
const open: HTMLElement[] = [];

/**
 * A dialog: focus moves into it and stays there (Tab cycles inside), Escape closes the innermost
 * one, the page behind is inert, and focus returns where it was on close.
 */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const dialog = ref.current!;
    const previous = document.activeElement as HTMLElement | null;
    open.push(dialog);
    const root = document.getElementById('root');
    const behind = root && !root.contains(dialog) ? root : null;
    behind?.setAttribute('inert', '');
    dialog.querySelector<HTMLElement>('input, select, textarea, button')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (open[open.length - 1] !== dialog) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        close.current();
        return;
      }
      if (e.key !== 'Tab') return;
      const focusable = [...dialog.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])')];
      if (!focusable.length) return;
      const first = focusable[0]!;
      const last = focusable[focusable.length - 1]!;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      open.splice(open.indexOf(dialog), 1);
      behind?.removeAttribute('inert');
      previous?.focus();
    };
  }, []);
  // In a portal beside #root, so the page behind can be made inert.
  return createPortal(
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close.current()}>
      <div className="modal" role="dialog" aria-modal="true" aria-label={title} ref={ref}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>,
    document.body,
  );
}
