import type { ErrorSource } from './protocol';

/** WebGPU's and WebGL's ways of saying the device is gone (a driver reset, a GPU unplugged, the tab backgrounded too long). */
const DEVICE_LOST = /device (is |was |has been )?lost|lost device|instance (reference )?(was )?dropped|no longer exists|context (was )?lost|context_lost|webglcontextlost/i;
const OUT_OF_MEMORY = /out of memory|\boom\b|allocation|failed to allocate/i;

const WHAT_NEXT: Record<ErrorSource, string> = {
  training: 'Press Reset to start a new encoder; if it happens again, lower the batch size or view size, or reload the page.',
  settings: 'The settings that caused it are in the left panel: change them back, then press Reset.',
  evaluation: 'Training itself is unaffected: press Train to go on, or change the probe settings and try again.',
  dataset: 'Pick another dataset in the Dataset menu, or reload the page.',
};

/**
 * The error banner's text for a failure in the worker: what happened in
 * words, the browser's own message in brackets, and what to do next. The
 * run's history stays on the charts whatever happened.
 */
export function explainFailure(message: string, source: ErrorSource): string {
  const raw = message.trim() || 'an unknown error';
  if (DEVICE_LOST.test(raw)) {
    return `The GPU device was lost (${raw}). The browser took the GPU away from this page, for example after a driver reset or when the tab stayed in the background. The history is kept on the charts. Reload the page to get a new device; your settings are in the address bar.`;
  }
  if (OUT_OF_MEMORY.test(raw)) {
    return `The GPU ran out of memory (${raw}). Lower the batch size, view size or encoder width, then press Reset.`;
  }
  // messages of our own already say what to do; a raw exception gets the next step added
  if (/\b(reset|reload|lower|raise|switch|turn|try)\b/i.test(raw)) return raw;
  return `Something failed ${source === 'training' ? 'during a training step' : source === 'settings' ? 'while applying the settings' : source === 'evaluation' ? 'during an evaluation' : 'while loading the dataset'}: ${raw}. ${WHAT_NEXT[source]}`;
}
