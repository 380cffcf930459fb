import type { ReactNode } from 'react';
import { errorText } from '../api.ts';

export function ErrorNotice({ error, what }: { error: unknown; what: string }) {
  return (
    <div className="notice notice-error" role="alert">
      Could not load {what}: {errorText(error)}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

/** A part of the console whose server side has not landed yet: said plainly, never faked. */
export function Placeholder({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="placeholder">
      <strong>{title}</strong>
      <p>{children}</p>
    </div>
  );
}
