import { useEffect, useRef } from 'react';
import { usePreviewStore } from '../state/previewStore';
import { useRunStore } from '../state/runStore';
import { previewer } from '../state/trainingClient';
import { ConfigField } from './ConfigField';
import { bytes } from './format';

/** One uint8 image drawn pixel for pixel; CSS scales it up without smoothing. */
function Thumbnail({ pixels, size, channels, label, picked, onPick }: {
  pixels: Uint8Array; size: number; channels: number; label: string; picked: boolean; onPick: () => void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(size, size);
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) image.data[4 * p + c] = pixels[p * channels + (channels === 3 ? c : 0)];
      image.data[4 * p + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }, [pixels, size, channels]);
  return (
    <button type="button" className={`thumb${picked ? ' thumb-picked' : ''}`} aria-pressed={picked} onClick={onPick} title={`${label}: click to show in the augmentation previewer`}>
      <canvas ref={canvas} width={size} height={size} aria-label={label} />
      <span className="thumb-caption">{label}</span>
    </button>
  );
}

export function DatasetPanel() {
  const dataset = useRunStore((s) => s.dataset);
  const progress = useRunStore((s) => s.loadProgress);
  const picked = usePreviewStore((s) => s.picked);
  const pixelsPerImage = dataset ? dataset.imageSize * dataset.imageSize * dataset.channels : 0;
  return (
    <section className="panel dataset-panel" aria-label="Dataset">
      <h2>Dataset</h2>
      <ConfigField name="dataset" />
      {!dataset && (
        <div className="loading" data-testid="dataset-progress">
          {progress ? (
            <>
              <progress value={progress.loadedBytes} max={progress.totalBytes ?? undefined} />
              <span>
                {progress.phase}: {bytes(progress.loadedBytes)}
                {progress.totalBytes ? ` of ${bytes(progress.totalBytes)}` : ''}
              </span>
            </>
          ) : (
            <span>Starting the training worker…</span>
          )}
        </div>
      )}
      {dataset && (
        <>
          <p className="dataset-summary">
            <span data-testid="dataset-count" data-value={dataset.trainCount + dataset.testCount}>
              {(dataset.trainCount + dataset.testCount).toLocaleString()} images
            </span>{' '}
            ({dataset.trainCount.toLocaleString()} train, {dataset.testCount.toLocaleString()} test), {dataset.classNames.length} classes,{' '}
            {dataset.imageSize}×{dataset.imageSize} {dataset.channels === 1 ? 'grayscale' : 'RGB'}
          </p>
          <details className="class-counts">
            <summary>Images per class</summary>
            <ul>
              {dataset.classNames.map((name, k) => (
                <li key={name}>{name}: {dataset.trainClassCounts[k]}</li>
              ))}
            </ul>
          </details>
          <p className="hint">Click images to show them in the augmentation previewer.</p>
          <div className="gallery" data-testid="dataset-gallery">
            {dataset.galleryLabels.map((label, i) => (
              <Thumbnail
                key={i}
                pixels={dataset.galleryImages.subarray(i * pixelsPerImage, (i + 1) * pixelsPerImage)}
                size={dataset.imageSize}
                channels={dataset.channels}
                label={dataset.classNames[label]}
                picked={picked.includes(i)}
                onPick={() => previewer.pick(i)}
              />
            ))}
          </div>
          {dataset.credit && <p className="credit">Data: {dataset.credit}</p>}
        </>
      )}
    </section>
  );
}
