// Small pieces every page uses: an error box (with the API's 422 details), labels, a confirmed
// action button. Everything is rendered as text by Preact: no markup is ever built from data.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api.js';

interface Detail {
  path?: string;
  errors?: string[];
}

export function ErrorBox({ error }: { error?: Error | undefined }) {
  if (!error) return null;
  const body = error instanceof ApiError ? (error.body as { details?: Detail[] } | null) : null;
  const details = Array.isArray(body?.details) ? body.details : [];
  return html`<div class="error" role="alert">
    <div>${error instanceof ApiError ? `${error.status}: ` : ''}${error.message}</div>
    ${
      details.length > 0 &&
      html`<ul class="details">
        ${details.map(
          (d) => html`<li><code>${String(d.path ?? '')}</code> ${(d.errors ?? []).join('; ')}</li>`,
        )}
      </ul>`
    }
  </div>`;
}

export function Labels({ labels }: { labels?: Record<string, string> | undefined }) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return html`<span class="muted">—</span>`;
  return html`${entries.map(([k, v]) => html`<span class="label">${k}=${v}</span>`)}`;
}

/**
 * A button that asks for confirmation, runs `action`, and shows its error. `onDone` runs after
 * it succeeded (navigation, a reload).
 */
export function ActionButton(props: {
  label: string;
  confirm: string;
  action: () => Promise<unknown>;
  onDone?: () => void;
  kind?: 'danger' | 'primary';
  testId?: string;
}) {
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    if (!window.confirm(props.confirm)) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.action();
      props.onDone?.();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  return html`<span>
    <button
      class=${props.kind ?? ''}
      disabled=${busy}
      data-testid=${props.testId}
      onClick=${() => void run()}
    >
      ${props.label}
    </button>
    <${ErrorBox} error=${error} />
  </span>`;
}

/** `2026-01-02T03:04:05.678Z` → a short local time. */
export function when(timestamp?: string): string {
  if (!timestamp) return '—';
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString();
}
