import { useEffect, useRef } from 'react';
import { INSTRUMENTS, useLayoutStore } from '../state/layoutStore';

/** A shortcut presses the same button a click would, so it is refused exactly when the button is disabled. */
const BUTTON_KEYS: { key: string; label: string; testIds: string[] }[] = [
  { key: 'Space', label: 'Train, or Pause while training', testIds: ['train-start', 'train-pause'] },
  { key: 'S', label: 'One step', testIds: ['train-step'] },
  { key: 'R', label: 'Reset: a new random encoder', testIds: ['train-reset'] },
  { key: 'P', label: 'Probe now', testIds: ['probe-run'] },
];

function clickEnabled(testIds: string[]): boolean {
  for (const id of testIds) {
    const button = document.querySelector<HTMLButtonElement>(`[data-testid="${id}"]`);
    if (button && !button.disabled) {
      button.click();
      return true;
    }
  }
  return false;
}

/** Typing in a field, or a key meant for a focused control, is never a shortcut. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Train/Pause/Step/Reset/Probe, the instruments 1–9, and ? for this list. */
export function useShortcuts(): void {
  const openInstrument = useLayoutStore((s) => s.openInstrument);
  const setHelpOpen = useLayoutStore((s) => s.setHelpOpen);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isTyping(event.target)) return;
      if (event.key === '?') {
        setHelpOpen(!useLayoutStore.getState().helpOpen);
        event.preventDefault();
        return;
      }
      if (event.key === 'Escape' && useLayoutStore.getState().helpOpen) {
        setHelpOpen(false);
        return;
      }
      const instrument = INSTRUMENTS.find((i) => i.key === event.key);
      if (instrument) {
        openInstrument(instrument.id);
        event.preventDefault();
        return;
      }
      // Space on a focused button is that button's own click
      if (event.key === ' ' && event.target instanceof HTMLButtonElement) return;
      const name = event.key === ' ' ? 'Space' : event.key.toUpperCase();
      const shortcut = BUTTON_KEYS.find((b) => b.key === name);
      if (!shortcut) return;
      // Space: Pause while training, otherwise Train
      const ids = shortcut.key === 'Space'
        ? (document.querySelector<HTMLButtonElement>('[data-testid="train-pause"]')?.disabled === false ? ['train-pause'] : ['train-start'])
        : shortcut.testIds;
      if (clickEnabled(ids)) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openInstrument, setHelpOpen]);
}

/** The list of shortcuts, opened with ? or the header's button. */
export function ShortcutsHelp() {
  const open = useLayoutStore((s) => s.helpOpen);
  const setHelpOpen = useLayoutStore((s) => s.setHelpOpen);
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) closeRef.current?.focus();
  }, [open]);
  if (!open) return null;
  return (
    <div className="overlay" onClick={() => setHelpOpen(false)}>
      <div className="overlay-card" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" data-testid="shortcuts-help" onClick={(e) => e.stopPropagation()}>
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <table className="shortcuts">
          <tbody>
            {BUTTON_KEYS.map((b) => (
              <tr key={b.key}><th><kbd>{b.key}</kbd></th><td>{b.label}</td></tr>
            ))}
            {INSTRUMENTS.map((i) => (
              <tr key={i.id}><th><kbd>{i.key}</kbd></th><td>Open {i.label}</td></tr>
            ))}
            <tr><th><kbd>?</kbd></th><td>Show or hide this list</td></tr>
            <tr><th><kbd>←</kbd> <kbd>→</kbd></th><td>In lecture mode: the previous or next line of Algorithm 1</td></tr>
          </tbody>
        </table>
        <p className="hint">Shortcuts are off while you type in a field.</p>
        <button type="button" ref={closeRef} data-testid="shortcuts-close" onClick={() => setHelpOpen(false)}>Close</button>
      </div>
    </div>
  );
}
