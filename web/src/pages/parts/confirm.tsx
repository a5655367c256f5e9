/**
 * A confirmation in a modal `<dialog>`: the browser keeps focus inside it and Escape cancels.
 * Focus starts on Cancel so a stray Enter does not confirm a destructive action, or on the first
 * field of a dialog that asks for input.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { FormError } from '../../components/ui.tsx';

export interface ConfirmProps {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  /** Styles the confirm button as destructive. */
  danger?: boolean;
  busy?: boolean;
  /** Disables the confirm button (e.g. until a required checkbox is ticked). */
  confirmDisabled?: boolean;
  error?: string | null;
  /** Focus starts on the first field of the body (a form), not on Cancel. */
  focusField?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, children, confirmLabel, danger, busy, confirmDisabled, error, focusField, onConfirm, onCancel }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const bodyId = useId();
  // Keep the latest handler for the native cancel event without re-adding the listener.
  const onCancelRef = useRef(onCancel);
  useEffect(() => {
    onCancelRef.current = onCancel;
  }, [onCancel]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const field = focusField ? dialog.querySelector<HTMLElement>('.pg-dialog-body input, .pg-dialog-body select') : null;
    (field ?? cancelRef.current)?.focus();
    const cancel = (e: Event): void => {
      e.preventDefault();
      onCancelRef.current();
    };
    dialog.addEventListener('cancel', cancel);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      // Give focus back to whatever opened the dialog, if it is still there.
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog ref={ref} className="pg-dialog" aria-labelledby={titleId} aria-describedby={bodyId}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!busy && !confirmDisabled) onConfirm();
        }}
      >
        <h2 id={titleId} className="pg-dialog-title">
          {title}
        </h2>
        <div id={bodyId} className="pg-dialog-body">
          {children}
        </div>
        <FormError error={error} />
        <div className="pg-dialog-actions">
          <button type="button" ref={cancelRef} className="btn" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className={danger ? 'btn btn-bad' : 'btn btn-primary'} disabled={busy || confirmDisabled}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
