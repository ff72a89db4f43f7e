import { useEffect, useState } from 'react';
import { BUILTIN_DATASETS, UPLOAD_PREFIX } from '../core/datasets';
import { NAME_MAX } from '../data/upload/datasetName';
import { useConfigStore } from '../state/configStore';
import { refreshStoredDatasets, uploads, useDatasetStore } from '../state/datasetStore';
import { usePreviewStore } from '../state/previewStore';
import { useRunStore } from '../state/runStore';
import { useGeneratorStore } from '../state/generatorStore';
import { previewer } from '../state/trainingClient';
import { bytes } from './format';
import { showNeighbours } from './neighboursRequest';
import { PixelCanvas } from './PixelCanvas';
import { UploadPanel } from './UploadPanel';
import { useEvaluationBlocker } from './useEvaluationBlocker';
import './dataset.css';

/**
 * A gallery tile: the image (click: show it in the augmentation previewer)
 * and, in its corner, ≈ to ask for its nearest neighbours by h and by pixels.
 */
function Thumbnail({ images, index, size, channels, label, picked, onPick, onNeighbours, neighboursDisabled, generated = false }: {
  images: Uint8Array; index: number; size: number; channels: 1 | 3; label: string; picked: boolean;
  onPick: () => void; onNeighbours: () => void; neighboursDisabled: boolean;
  /** a generated image (Z): badged, so it is never taken for a real one */
  generated?: boolean;
}) {
  return (
    <div className={`thumb-tile${generated ? ' thumb-generated' : ''}`} data-origin={generated ? 'generated' : 'real'}>
      {generated && <span className="generated-badge" data-testid="generated-badge" title="Made by the generative model, not a real image">generated</span>}
      <button type="button" className={`thumb${picked ? ' thumb-picked' : ''}`} aria-pressed={picked} onClick={onPick} title={`${label}: click to show in the augmentation previewer`}>
        <PixelCanvas batch={images} index={index} size={size} channels={channels} label={label} />
        <span className="thumb-caption">{label}</span>
      </button>
      <button
        type="button" className="thumb-neighbours" data-testid="gallery-neighbours" disabled={neighboursDisabled} onClick={onNeighbours}
        title="Show its 8 nearest neighbours by h and by pixels" aria-label={`Nearest neighbours of this ${label} image`}
      >
        ≈
      </button>
    </div>
  );
}

/** One group of uploaded sets in the dataset menu, each with its image count; nothing when the group is empty. */
function UploadOptions({ label, sets }: { label: string; sets: readonly { id: string; name: string; imageCount: number }[] }) {
  if (sets.length === 0) return null;
  return (
    <optgroup label={label}>
      {sets.map((d) => (
        <option key={d.id} value={`${UPLOAD_PREFIX}${d.id}`}>
          {d.name} ({d.imageCount.toLocaleString()} image{d.imageCount === 1 ? '' : 's'})
        </option>
      ))}
    </optgroup>
  );
}

/**
 * Rename for the selected uploaded set: a button, then an inline field
 * (Enter saves, Escape cancels). The store checks the name
 * (datasetName.ts's checkNewName) and says why when it refuses one.
 */
function RenameDataset({ id, name }: { id: string; name: string }) {
  const [draft, setDraft] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const cancel = () => {
    setDraft(null);
    setProblem(null);
  };
  if (draft === null) {
    return (
      <button type="button" className="link-button dataset-rename-button" data-testid="dataset-rename" onClick={() => setDraft(name)}>
        Rename
      </button>
    );
  }
  const save = async () => {
    if (saving) return;
    setSaving(true);
    const refusal = await uploads.rename(id, draft);
    setSaving(false);
    if (refusal) setProblem(refusal);
    else cancel();
  };
  return (
    <form className="dataset-rename" onSubmit={(e) => { e.preventDefault(); void save(); }}>
      <label htmlFor="dataset-rename-input">New name</label>
      <input
        id="dataset-rename-input" data-testid="dataset-rename-input" type="text" value={draft} autoFocus spellCheck={false}
        aria-invalid={problem !== null} aria-describedby={problem ? 'dataset-rename-error' : 'dataset-rename-hint'}
        onFocus={(e) => e.currentTarget.select()}
        onChange={(e) => { setDraft(e.target.value); setProblem(null); }}
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          // Escape here cancels the rename and nothing else (not the lecture view, not a dialog)
          e.preventDefault();
          e.stopPropagation();
          cancel();
        }}
      />
      <div className="dataset-rename-actions">
        <button type="submit" disabled={saving}>Save</button>
        <button type="button" onClick={cancel}>Cancel</button>
      </div>
      {problem ? (
        <div className="field-error" role="alert" id="dataset-rename-error" data-testid="dataset-rename-error">{problem}</div>
      ) : (
        <div className="hint" id="dataset-rename-hint">Enter saves, Escape cancels; at most {NAME_MAX} characters.</div>
      )}
    </form>
  );
}

/** The gallery shows the real images X, the generated ones Z, or both (issue 19). */
type OriginFilter = 'both' | 'real' | 'generated';

/**
 * Generated images the gallery can show beside the real ones: a mixed set's
 * own Z rows, or else the fixed-noise grid of the generator held for this
 * dataset (not training images: they cannot be picked for the previewer).
 */
function GeneratorGridTiles({ datasetId }: { datasetId: string }) {
  const samples = useGeneratorStore((s) => s.samples);
  const current = useGeneratorStore((s) => s.current);
  if (!samples || !current || current.datasetId !== datasetId) return null;
  return (
    <>
      {Array.from({ length: samples.count }, (_, k) => (
        <div key={`grid-${k}`} className="thumb-tile thumb-generated" data-origin="generated">
          <span className="generated-badge" data-testid="generated-badge" title="Made by the generative model, not a real image">generated</span>
          <div className="thumb thumb-static" title={`Sample ${k + 1} of the generator’s fixed-noise grid (step ${samples.step})`}>
            <PixelCanvas batch={samples.images} index={k} size={samples.imageSize} channels={samples.channels} label={`generated sample ${k + 1}`} />
            <span className="thumb-caption">sample {k + 1}</span>
          </div>
        </div>
      ))}
    </>
  );
}

export function DatasetPanel() {
  const dataset = useRunStore((s) => s.dataset);
  const generatorHasSamples = useGeneratorStore((s) => s.samples !== null && s.current?.datasetId === dataset?.id);
  const [originFilter, setOriginFilter] = useState<OriginFilter>('both');
  const progress = useRunStore((s) => s.loadProgress);
  const picked = usePreviewStore((s) => s.picked);
  const datasetId = useConfigStore((s) => s.config.dataset);
  const setField = useConfigStore((s) => s.setField);
  const stored = useDatasetStore((s) => s.stored);
  const session = useDatasetStore((s) => s.session);
  const storageMessages = useDatasetStore((s) => s.storageMessages);
  const brokenCount = useDatasetStore((s) => s.broken.length);
  const [classFilter, setClassFilter] = useState<number | 'all'>('all');
  const evaluationBlocked = useEvaluationBlocker() !== null;
  useEffect(() => {
    void refreshStoredDatasets();
  }, []);
  useEffect(() => setClassFilter('all'), [dataset?.id]);

  // a set X ∪ Z of the generated-data experiment stands in for the chosen dataset while the experiment runs
  const loading = !dataset || (dataset.id !== datasetId && dataset.mix?.sourceId !== datasetId);
  const hasGenerated = dataset?.galleryGenerated?.some(Boolean) || generatorHasSamples;
  const uploadId = datasetId.startsWith(UPLOAD_PREFIX) ? datasetId.slice(UPLOAD_PREFIX.length) : null;
  const selectedUpload = uploadId === null ? undefined : stored.find((d) => d.id === uploadId) ?? session.find((d) => d.id === uploadId);
  const knownUpload = selectedUpload !== undefined;
  // a set deleted in another tab while in use here: training goes on with the worker's copy, under its name
  const deletedElsewhere = storageMessages.some((m) => m.key === 'other-tab');
  const orphanName = dataset?.id === datasetId ? `${dataset.name}${deletedElsewhere ? ' (deleted in another tab)' : ''}` : datasetId;
  return (
    <section className="panel dataset-panel" aria-label="Dataset">
      <h2>Dataset</h2>
      <div className="field field-enum">
        <label htmlFor="dataset-select">Dataset <span className="reset-mark" title="Switching resets the encoder">↺</span></label>
        <select id="dataset-select" data-testid="dataset-select" value={datasetId} onChange={(e) => setField('dataset', e.target.value)}>
          <optgroup label="Built in">
            {BUILTIN_DATASETS.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </optgroup>
          <UploadOptions label="Uploaded (kept in this browser)" sets={stored} />
          <UploadOptions label="Uploaded (this visit only, not saved)" sets={session} />
          {uploadId !== null && !knownUpload && <option value={datasetId}>{orphanName}</option>}
        </select>
      </div>
      {selectedUpload && (
        <div className="dataset-actions">
          <RenameDataset key={selectedUpload.id} id={selectedUpload.id} name={selectedUpload.name} />
          <button type="button" className="link-button" data-testid="dataset-delete" onClick={() => {
            if (window.confirm('Delete this uploaded dataset from this browser?')) void uploads.remove(selectedUpload.id);
          }}>
            Delete this uploaded dataset
          </button>
        </div>
      )}
      {storageMessages.map((m) => (
        <div key={m.key} className="storage-warning" role={m.key === 'action' ? 'alert' : 'status'} data-testid="storage-warning" data-kind={m.key}>
          {m.text}
          {m.key === 'broken' && (
            <button type="button" className="link-button" data-testid="storage-remove-broken" onClick={() => void uploads.removeBroken()}>
              {brokenCount === 1 ? 'Remove it' : 'Remove them'}
            </button>
          )}
        </div>
      ))}
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
          {dataset.mix && (
            <p className="hint mix-note" data-testid="dataset-mix">
              Training on X ∪ Z for the generated-data experiment: {dataset.mix.realCount.toLocaleString()} real images of “{dataset.mix.sourceName}”
              and {dataset.mix.generatedCount.toLocaleString()} generated ones. The probe and kNN use real images only.
            </p>
          )}
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
          {hasGenerated && (
            <div className="class-filter">
              <label htmlFor="gallery-origin">Images</label>
              <select id="gallery-origin" data-testid="gallery-origin-filter" value={originFilter} onChange={(e) => setOriginFilter(e.target.value as OriginFilter)}>
                <option value="both">real (X) and generated (Z)</option>
                <option value="real">real only (X)</option>
                <option value="generated">generated only (Z)</option>
              </select>
            </div>
          )}
          <p className="hint">Click images to show them in the augmentation previewer; ≈ in a corner shows an image&apos;s nearest neighbours.</p>
          <div className="gallery" data-testid="dataset-gallery">
            {dataset.galleryLabels.map((label, k) => {
              const generated = dataset.galleryGenerated?.[k] ?? false;
              if (originFilter === 'real' && generated) return null;
              if (originFilter === 'generated' && !generated) return null;
              return classFilter !== 'all' && label !== classFilter ? null : (
                <Thumbnail
                  key={`${dataset.id}-${k}`}
                  images={dataset.galleryImages}
                  index={k}
                  size={dataset.imageSize}
                  channels={dataset.channels}
                  label={generated ? 'generated' : label >= 0 ? dataset.classNames[label] : 'unlabelled'}
                  picked={picked.includes(dataset.galleryIndices[k])}
                  onPick={() => previewer.pick(dataset.galleryIndices[k])}
                  onNeighbours={() => showNeighbours('train', dataset.galleryIndices[k])}
                  neighboursDisabled={evaluationBlocked}
                  generated={generated}
                />
              );
            })}
            {!dataset.mix && originFilter !== 'real' && classFilter === 'all' && <GeneratorGridTiles datasetId={dataset.id} />}
          </div>
          {dataset.credit && <p className="credit">Data: {dataset.credit}</p>}
        </>
      )}
    </section>
  );
}
