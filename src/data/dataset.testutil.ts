/** Small datasets for the storage tests. */
import type { ImageDataset } from './dataset';

/** A small RGB set of 4×4 images: `train` + `test` images whose every byte is `fill`, two classes. */
export function tinyDataset(id: string, name: string, fill = 1, train = 6, test = 2): ImageDataset {
  const bytes = 4 * 4 * 3;
  const labels = (n: number) => Int32Array.from({ length: n }, (_, i) => i % 2);
  return {
    id, name, imageSize: 4, channels: 3, classNames: ['a', 'b'],
    train: { images: new Uint8Array(train * bytes).fill(fill), labels: labels(train), count: train },
    test: { images: new Uint8Array(test * bytes).fill(fill), labels: labels(test), count: test },
  };
}
