import type { ReactNode } from 'react';
import { INSTRUMENTS, useLayoutStore, type InstrumentId } from '../state/layoutStore';
import { useRunStore } from '../state/runStore';
import { METHOD_CATALOG } from '../core/methods';

/**
 * The instruments as tabs; the open one is in the address bar's hash, so a link opens it.
 * Test ids: tab-affinity, tab-geometry, tab-evaluation, tab-temperature, tab-lecture, tab-augment, tab-compare, tab-generated, tab-export
 * (and instrument-<id> on each panel).
 */
export function InstrumentTabs() {
  const active = useLayoutStore((s) => s.instrument);
  const openInstrument = useLayoutStore((s) => s.openInstrument);
  // an evaluation that failed marks its tab, so the error is found from wherever the user is
  const evaluationFailed = useRunStore((s) => !!s.error && s.errorSource === 'evaluation');
  // a pretext task has no affinity matrix: its tab shows the task's own instrument
  const taskInstrument = useRunStore((s) => METHOD_CATALOG[s.appliedConfig?.method ?? 'simclr'].matrix === 'task');
  const onKeyDown = (event: React.KeyboardEvent) => {
    const index = INSTRUMENTS.findIndex((i) => i.id === active);
    const next = event.key === 'ArrowRight' ? index + 1 : event.key === 'ArrowLeft' ? index - 1 : null;
    if (next === null) return;
    event.preventDefault();
    const id = INSTRUMENTS[(next + INSTRUMENTS.length) % INSTRUMENTS.length].id;
    openInstrument(id);
    document.getElementById(`tab-${id}`)?.focus();
  };
  return (
    <nav className="instrument-tabs" role="tablist" aria-label="Instruments" onKeyDown={onKeyDown}>
      {INSTRUMENTS.map((i) => (
        <button
          key={i.id}
          id={`tab-${i.id}`}
          type="button"
          role="tab"
          aria-selected={i.id === active}
          aria-controls={`instrument-${i.id}`}
          tabIndex={i.id === active ? 0 : -1}
          className={`instrument-tab${i.id === active ? ' instrument-tab-active' : ''}`}
          data-testid={`tab-${i.id}`}
          title={`${i.help} (key ${i.key})`}
          onClick={() => openInstrument(i.id)}
        >
          {i.id === 'affinity' && taskInstrument ? 'Task' : i.label}
          {i.id === 'evaluation' && evaluationFailed && <span className="tab-alert" aria-label="(stopped with an error)"> !</span>}
        </button>
      ))}
    </nav>
  );
}

/** One instrument's panels: kept mounted when hidden, so a comparison or an edit in progress survives a tab switch. */
export function InstrumentPanel({ id, children }: { id: InstrumentId; children: ReactNode }) {
  const active = useLayoutStore((s) => s.instrument === id);
  return (
    <div role="tabpanel" id={`instrument-${id}`} aria-labelledby={`tab-${id}`} data-testid={`instrument-${id}`} hidden={!active} className="instrument-panel">
      {children}
    </div>
  );
}
