import type { ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { Modal } from '../ui/Modal';

/**
 * A yes/no dialog: "Confirm" does it, "Back" (or Escape) leaves things as they are. In a portal, so
 * that one opened from the stage drawer covers the whole page.
 */
export function ConfirmDialog({ title, children, onConfirm, onClose, busy }: { title: string; children?: ReactNode; onConfirm: () => void; onClose: () => void; busy?: boolean }) {
  return createPortal(
    <Modal title={title} onClose={onClose}>
      {children}
      <div className="actions">
        <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
          Confirm
        </button>
        <button type="button" onClick={onClose}>
          Back
        </button>
      </div>
    </Modal>,
    document.body,
  );
}
