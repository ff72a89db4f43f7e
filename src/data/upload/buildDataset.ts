/**
 * Decoded thumbnails, their labels and a split, assembled into an
 * ImageDataset, plus the summary the page shows. Pure: runs in Node tests.
 */
import { imageBytes, UNLABELLED, type ImageDataset, type ImageSplit } from '../dataset';
import type { Labelling } from './paths';
import type { SkippedFile, UploadSummary } from './protocol';
import type { SplitIndices } from './split';

export interface BuildInput {
  id: string;
  name: string;
  imageSize: number;
  /** one RGB thumbnail per image, imageSize·imageSize·3 bytes, HWC */
  images: readonly Uint8Array[];
  labelling: Pick<Labelling, 'labels' | 'classNames' | 'labelled'>;
  split: SplitIndices;
}

/** A fresh id for a stored dataset: 32 hex digits (fits `upload:<id>` in dataset ids). */
export function newDatasetId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function gather(images: readonly Uint8Array[], labels: Int32Array, indices: Int32Array, bytesPerImage: number): ImageSplit {
  const packed = new Uint8Array(indices.length * bytesPerImage);
  const splitLabels = new Int32Array(indices.length);
  indices.forEach((index, k) => {
    packed.set(images[index], k * bytesPerImage);
    splitLabels[k] = labels[index];
  });
  return { images: packed, labels: splitLabels, count: indices.length };
}

/** An RGB dataset from the decoded images; an unlabelled set gets no class names and every label UNLABELLED. */
export function buildDataset(input: BuildInput): ImageDataset {
  const { images, labelling, split, imageSize } = input;
  const bytesPerImage = imageBytes(imageSize, 3);
  images.forEach((image, i) => {
    if (image.length !== bytesPerImage) {
      throw new RangeError(`Image ${i} has ${image.length} bytes; a ${imageSize}×${imageSize} RGB image has ${bytesPerImage}.`);
    }
  });
  if (labelling.labels.length !== images.length) {
    throw new RangeError(`${labelling.labels.length} labels for ${images.length} images.`);
  }
  if (split.train.length + split.test.length !== images.length) {
    throw new RangeError(`The split has ${split.train.length}+${split.test.length} indices for ${images.length} images.`);
  }
  const labels = labelling.labelled ? labelling.labels : new Int32Array(images.length).fill(UNLABELLED);
  return {
    id: input.id,
    name: input.name,
    imageSize,
    channels: 3,
    classNames: labelling.labelled ? [...labelling.classNames] : [],
    train: gather(images, labels, split.train, bytesPerImage),
    test: gather(images, labels, split.test, bytesPerImage),
  };
}

/** What the page shows once an upload is stored. */
export function uploadSummary(
  dataset: ImageDataset,
  labelling: Pick<Labelling, 'classCounts' | 'labelled' | 'unlabelledReason'>,
  skipped: SkippedFile[],
  truncation?: { truncatedAt: number; droppedCount: number },
): UploadSummary {
  const summary: UploadSummary = {
    id: dataset.id,
    name: dataset.name,
    imageCount: dataset.train.count + dataset.test.count,
    trainCount: dataset.train.count,
    testCount: dataset.test.count,
    classNames: [...dataset.classNames],
    classCounts: labelling.labelled ? [...labelling.classCounts] : [],
    labelled: labelling.labelled,
    skipped,
  };
  if (!labelling.labelled && labelling.unlabelledReason) summary.unlabelledReason = labelling.unlabelledReason;
  if (truncation) {
    summary.truncatedAt = truncation.truncatedAt;
    summary.droppedCount = truncation.droppedCount;
  }
  return summary;
}
