import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { errorText } from '../api.ts';

/**
 * A modal confirmation for actions that change a host (isolate, release):
 * the browser's own <dialog> (focus kept inside, Escape cancels), what will
 * happen in plain words, and the server's refusal shown in place rather
 * than the dialog closing on it.
 */
export function ConfirmDialog({
  title,
  confirmLabel,
  danger = true,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  /** Throws to keep the dialog open with the error shown. */
  onConfirm: () => Promise<void>;
  onClose: () => void;
  children?: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="confirm-dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            await onConfirm();
            onClose();
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h2 id={titleId}>{title}</h2>
        <div className="stack">{children}</div>
        {error !== undefined ? (
          <div className="notice notice-error" role="alert">
            {errorText(error)}
          </div>
        ) : null}
        <div className="dialog-buttons">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className={danger ? 'danger' : 'primary'} disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
