import { useId, useRef, useState } from 'react';

/** A value shown once (a token, an install command) with a Copy button; selectable by hand too. */
export function CopyField({
  label,
  value,
  multiline = false,
}: {
  label: string;
  value: string;
  multiline?: boolean;
}) {
  const id = useId();
  const ref = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'select' | null>(null);
  const copy = async (): Promise<void> => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      // Plain HTTP to a remote server has no clipboard API: select it for Ctrl+C instead.
      ref.current?.select();
      setCopied('select');
    }
  };
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        {multiline ? (
          <textarea id={id} ref={ref} readOnly value={value} rows={3} spellCheck={false} />
        ) : (
          <input id={id} ref={ref} readOnly value={value} spellCheck={false} />
        )}
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <output className="muted">
        {copied === 'yes' ? 'Copied.' : copied === 'select' ? 'Selected: press Ctrl+C to copy.' : ''}
      </output>
    </div>
  );
}
