/**
 * The catalogue of dataset ids. Built-ins are made in the worker (downloaded
 * or generated); uploads are stored in IndexedDB under `upload:<id>`.
 */
export const FASHION_MNIST_ID = 'fashion-mnist';
export const SYNTHETIC_SHAPES_ID = 'synthetic-shapes';
export const UPLOAD_PREFIX = 'upload:';

export const BUILTIN_DATASETS: readonly { id: string; name: string }[] = [
  { id: FASHION_MNIST_ID, name: 'Fashion-MNIST (12k)' },
  { id: SYNTHETIC_SHAPES_ID, name: 'Coloured shapes (synthetic)' },
];

/** A built-in id, or `upload:` followed by a stored dataset's id (letters, digits, - and _). */
export function isDatasetId(id: string): boolean {
  return BUILTIN_DATASETS.some((d) => d.id === id) || /^upload:[A-Za-z0-9_-]{1,64}$/.test(id);
}
