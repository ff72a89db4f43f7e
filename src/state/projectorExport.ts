/**
 * The TensorBoard projector export (issue 21) on the page: the worker's h of
 * the map's images, zipped by src/export/projector.ts with what the files
 * describe (method, step, dataset), under a file name that says the same.
 */
import { METHOD_CATALOG } from '../core/methods';
import { projectorBundle } from '../export/projector';
import type { FeaturesExport } from '../train/protocol';

/** A file-name part from free text (a dataset name from an upload): letters, digits and dashes only. */
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'dataset';

export function projectorFiles(result: FeaturesExport): { requestId: number; bytes: Uint8Array; fileName: string; n: number; d: number } {
  const method = METHOD_CATALOG[result.method]?.label ?? result.method;
  const encoder = result.encoder === 'encoder' ? `${method} encoder after ${result.step} steps` : 'random-init encoder (untrained)';
  const bytes = projectorBundle({
    vectors: result.vectors, n: result.n, d: result.d, labels: result.labels, classNames: result.classNames,
    indices: result.indices, split: result.split, images: result.images, imageSize: result.imageSize, channels: result.channels,
    tensorName: `h (${result.d} dimensions), ${encoder}, ${result.datasetName} ${result.split} split`,
    about: {
      encoder,
      ...(result.encoder === 'encoder' && result.step === 0 ? { note: 'This encoder is untrained (0 steps): its h is that of random weights.' } : {}),
      dataset: result.datasetName,
      images: `the first ${result.n} images of the ${result.split} split`,
      representation: `h = f(x), ${result.d} dimensions, the encoder's output before the projection head`,
      exported: new Date().toISOString(),
    },
  });
  return { requestId: result.requestId, bytes, fileName: `projector-${result.method}-step${result.step}-${slug(result.datasetName)}.zip`, n: result.n, d: result.d };
}
