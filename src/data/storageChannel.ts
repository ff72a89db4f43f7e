/**
 * Tells the other tabs of this page (and this page, from a worker) when saved
 * datasets or comparisons change, so their lists follow: a BroadcastChannel
 * named STORAGE_CHANNEL. The writes announce themselves once committed
 * (datasetDb.ts, comparisonDb.ts); the stores listen. A context does not hear
 * its own announcements (BroadcastChannel never delivers to the sender).
 */

export const STORAGE_CHANNEL = 'ssp-storage';

export type StorageChange =
  | { store: 'datasets'; change: 'saved' | 'renamed' | 'deleted'; id: string }
  | { store: 'comparisons'; change: 'saved' | 'deleted'; ids: string[] };

let channel: BroadcastChannel | null | undefined;
const listeners = new Set<(change: StorageChange) => void>();

/** Another tab may run an older or newer version of the page: only messages of this shape are heard. */
function isStorageChange(data: unknown): data is StorageChange {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  if (d.store === 'datasets') return (d.change === 'saved' || d.change === 'renamed' || d.change === 'deleted') && typeof d.id === 'string';
  if (d.store === 'comparisons') {
    return (d.change === 'saved' || d.change === 'deleted') && Array.isArray(d.ids) && d.ids.every((id) => typeof id === 'string');
  }
  return false;
}

function open(): BroadcastChannel | null {
  if (channel !== undefined) return channel;
  try {
    channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(STORAGE_CHANNEL) : null;
  } catch {
    // an opaque origin, or storage partitioning that refuses it: the tabs just do not hear each other
    channel = null;
  }
  if (channel) {
    channel.onmessage = (event: MessageEvent<unknown>) => {
      if (!isStorageChange(event.data)) return;
      for (const listener of listeners) listener(event.data);
    };
  }
  return channel;
}

/** Tells the other tabs; never throws (a tab that does not hear it still sees the change on its next reload). */
export function announceStorageChange(change: StorageChange): void {
  try {
    open()?.postMessage(change);
  } catch {
    // the channel is closed or the browser refused it
  }
}

/** Calls `listener` with every change another tab (or a worker) announces. Returns the unsubscribe. */
export function onStorageChange(listener: (change: StorageChange) => void): () => void {
  open();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Closes this context's channel (tests: an open channel keeps Node running); the next use opens it again. */
export function closeStorageChannel(): void {
  channel?.close();
  channel = undefined;
}
