import { useEffect, useRef, useState } from 'react';
import { BUILTIN_DATASETS, UPLOAD_PREFIX } from '../data/datasets';
import { useConfigStore } from '../state/configStore';
import { refreshStoredDatasets, uploads, useDatasetStore } from '../state/datasetStore';
import { usePreviewStore } from '../state/previewStore';
import { useRunStore } from '../state/runStore';
import { previewer } from '../state/trainingClient';
import { bytes } from './format';
import { UploadPanel } from './UploadPanel';

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
  const datasetId = useConfigStore((s) => s.config.dataset);
  const setField = useConfigStore((s) => s.setField);
  const stored = useDatasetStore((s) => s.stored);
  const storageError = useDatasetStore((s) => s.storageError);
  const [classFilter, setClassFilter] = useState<number | 'all'>('all');
  useEffect(() => {
    void refreshStoredDatasets();
  }, []);
  useEffect(() => setClassFilter('all'), [dataset?.id]);

  const pixelsPerImage = dataset ? dataset.imageSize * dataset.imageSize * dataset.channels : 0;
  const loading = !dataset || dataset.id !== datasetId;
  const uploadId = datasetId.startsWith(UPLOAD_PREFIX) ? datasetId.slice(UPLOAD_PREFIX.length) : null;
  const knownUpload = uploadId !== null && stored.some((d) => d.id === uploadId);
  return (
    <section className="panel dataset-panel" aria-label="Dataset">
      <h2>Dataset</h2>
      <div className="field field-enum">
        <label htmlFor="dataset-select">Dataset <span className="reset-mark" title="Switching resets the encoder">↺</span></label>
        <select id="dataset-select" data-testid="dataset-select" value={datasetId} onChange={(e) => setField('dataset', e.target.value)}>
          <optgroup label="Built in">
            {BUILTIN_DATASETS.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </optgroup>
          {stored.length > 0 && (
            <optgroup label="Uploaded (kept in this browser)">
              {stored.map((d) => <option key={d.id} value={`${UPLOAD_PREFIX}${d.id}`}>{d.name} ({d.imageCount})</option>)}
            </optgroup>
          )}
          {uploadId !== null && !knownUpload && <option value={datasetId}>{datasetId}</option>}
        </select>
      </div>
      {uploadId !== null && knownUpload && (
        <button type="button" className="link-button" data-testid="dataset-delete" onClick={() => {
          if (window.confirm('Delete this uploaded dataset from this browser?')) void uploads.remove(uploadId);
        }}>
          Delete this uploaded dataset
        </button>
      )}
      {storageError && <div className="field-error" role="alert">{storageError}</div>}
      <UploadPanel />
      {loading && (
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
            <span>Loading the dataset…</span>
          )}
        </div>
      )}
      {dataset && (
        <>
          <p className="dataset-summary">
            <span data-testid="dataset-count" data-value={dataset.trainCount + dataset.testCount}>
              {(dataset.trainCount + dataset.testCount).toLocaleString()} images
            </span>{' '}
            ({dataset.trainCount.toLocaleString()} train, {dataset.testCount.toLocaleString()} test),{' '}
            {dataset.labelled ? `${dataset.classNames.length} classes` : 'no labels'}, {dataset.imageSize}×{dataset.imageSize}{' '}
            {dataset.channels === 1 ? 'grayscale' : 'RGB'}
          </p>
          {!dataset.labelled && (
            <p className="hint" data-testid="probe-unavailable">
              These images have no class folders, so there is nothing for a linear probe to predict: training works, the probe is off.
            </p>
          )}
          {dataset.labelled && (
            <div className="class-filter">
              <label htmlFor="gallery-class">Show</label>
              <select id="gallery-class" data-testid="gallery-class-filter" value={String(classFilter)}
                onChange={(e) => setClassFilter(e.target.value === 'all' ? 'all' : Number(e.target.value))}>
                <option value="all">all classes</option>
                {dataset.classNames.map((name, k) => (
                  <option key={k} value={k}>{name} ({dataset.trainClassCounts[k]})</option>
                ))}
              </select>
            </div>
          )}
          <p className="hint">Click images to show them in the augmentation previewer.</p>
          <div className="gallery" data-testid="dataset-gallery">
            {dataset.galleryLabels.map((label, k) =>
              classFilter !== 'all' && label !== classFilter ? null : (
                <Thumbnail
                  key={`${dataset.id}-${k}`}
                  pixels={dataset.galleryImages.subarray(k * pixelsPerImage, (k + 1) * pixelsPerImage)}
                  size={dataset.imageSize}
                  channels={dataset.channels}
                  label={label >= 0 ? dataset.classNames[label] : 'unlabelled'}
                  picked={picked.includes(dataset.galleryIndices[k])}
                  onPick={() => previewer.pick(dataset.galleryIndices[k])}
                />
              ),
            )}
          </div>
          {dataset.credit && <p className="credit">Data: {dataset.credit}</p>}
        </>
      )}
    </section>
  );
}
