import type { ErrorSource } from './protocol';

/** WebGPU's and WebGL's ways of saying the device is gone (a driver reset, a GPU unplugged, the tab backgrounded too long). */
const DEVICE_LOST = /device (is |was |has been )?lost|lost device|instance (reference )?(was )?dropped|no longer exists|context (was )?lost|context_lost|webglcontextlost/i;
const OUT_OF_MEMORY = /out of memory|\boom\b|allocation|failed to allocate/i;

const WHAT_NEXT: Record<ErrorSource, string> = {
  training: 'Press Reset to start a new encoder; if it happens again, lower the batch size or view size, or reload the page.',
  settings: 'The settings that caused it are in the left panel: change them back, then press Reset.',
  evaluation: 'Training itself is unaffected: press Train to go on, or change the probe settings and try again.',
  dataset: 'Pick another dataset in the Dataset menu, or reload the page.',
  device: 'Press “Continue on a new device” in this banner: a new worker trains a new encoder from this step on; the charts keep the run’s history.',
  worker: 'Press “Continue in a new worker” in this banner: it trains a new encoder from this step on; the charts keep the run’s history.',
};

/** Whether a browser error says the GPU device (or WebGL context) is gone. */
export function isDeviceLost(message: string): boolean {
  return DEVICE_LOST.test(message);
}

/**
 * The error banner's text for a failure in the worker: what happened in
 * words, the browser's own message in brackets, and what to do next. The
 * run's history stays on the charts whatever happened.
 */
export function explainFailure(message: string, source: ErrorSource): string {
  const raw = message.trim() || 'an unknown error';
  if (DEVICE_LOST.test(raw)) {
    return `The GPU device was lost (${raw}). The browser took the GPU away from this page, for example after a driver reset or when the tab stayed in the background, and the encoder's weights went with it. ${WHAT_NEXT.device}`;
  }
  if (OUT_OF_MEMORY.test(raw)) {
    return `The GPU ran out of memory (${raw}). Lower the batch size, view size or encoder width, then press Reset; if Reset fails too, press “Continue on a new device”.`;
  }
  // messages of our own already say what to do; a raw exception gets the next step added
  if (/\b(reset|reload|lower|raise|switch|turn|try)\b/i.test(raw)) return raw;
  const where: Record<ErrorSource, string> = {
    training: 'during a training step', settings: 'while applying the settings', evaluation: 'during an evaluation', dataset: 'while loading the dataset',
    device: 'on the GPU device', worker: 'in the training worker',
  };
  return `Something failed ${where[source]}: ${raw}. ${WHAT_NEXT[source]}`;
}
