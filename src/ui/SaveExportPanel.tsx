import { useEffect, useRef, useState } from 'react';
import {
  AUTOSAVE_MS, checkpointFile, dismissOffer, refreshCheckpoints, removeCheckpoint, resumeFromFile, resumeStored, saveCheckpoint,
  useCheckpointStore,
} from '../state/checkpointStore';
import { useEvalStore, type WeightsFormat } from '../state/evalStore';
import { latestStep, useRunStore } from '../state/runStore';
import { evaluation } from '../state/trainingClient';
import { CHECKPOINT_EXTENSION } from '../train/checkpoint';
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAMES } from '../export/onnx';
import { downloadBlob } from './compareDownload';
import { useDownloadWhenReady } from './useDownloadWhenReady';
import { useEvaluationBlocker } from './useEvaluationBlocker';
import { PytorchExport } from './PytorchExport';
import './saveExport.css';

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 2 : 1)} MB`;

/** “3 min ago”, “just now”: when a checkpoint was saved, as a person says it. */
export function ago(at: number, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return new Date(at).toLocaleDateString();
}

const REASONS: Record<string, string> = {
  pause: 'on pause', autosave: 'while training', unload: 'when the page was hidden', manual: 'saved by you',
};

/**
 * The offer, after a reload, to carry on the run this browser saved last; in
 * the command bar, so it is seen whatever tab is open.
 */
export function ResumeOffer() {
  const offer = useCheckpointStore((s) => s.offer);
  const busy = useCheckpointStore((s) => s.busy);
  if (!offer) return null;
  return (
    <div className="banner banner-info resume-offer" role="status" data-testid="resume-offer" data-step={offer.step}>
      <span>
        <strong>Resume your run?</strong> {offer.methodLabel} on “{offer.datasetName}”, saved at step {offer.step.toLocaleString('en-US')} {ago(offer.savedAt)} ({REASONS[offer.reason] ?? offer.reason}).
      </span>
      <button type="button" className="primary" data-testid="resume-accept" disabled={busy !== null} onClick={() => void resumeStored(offer.id)}>
        {busy === 'loading' ? 'Resuming…' : 'Resume'}
      </button>
      <button type="button" data-testid="resume-dismiss" disabled={busy !== null} onClick={() => void dismissOffer()}>Not now</button>
    </div>
  );
}

function CheckpointRow({ id }: { id: string }) {
  const info = useCheckpointStore((s) => s.checkpoints.find((c) => c.id === id));
  const busy = useCheckpointStore((s) => s.busy);
  if (!info) return null;
  const download = async () => {
    const file = await checkpointFile(id);
    if (file) downloadBlob(new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), file.fileName);
  };
  return (
    <tr data-testid="checkpoint-row" data-step={info.step} data-auto={info.auto ? 'yes' : 'no'} data-bytes={info.bytes}>
      <td>{info.step.toLocaleString('en-US')}</td>
      <td>{info.methodLabel}</td>
      <td className="checkpoint-dataset" title={info.datasetName}>{info.datasetName}</td>
      <td>{megabytes(info.bytes)}</td>
      <td title={new Date(info.savedAt).toLocaleString()}>{ago(info.savedAt)}, {info.auto ? `automatic (${REASONS[info.reason] ?? info.reason})` : 'saved by you'}</td>
      <td className="checkpoint-actions">
        <button type="button" data-testid="checkpoint-resume" disabled={busy !== null} onClick={() => void resumeStored(id)}>Resume</button>
        <button type="button" data-testid="checkpoint-download" onClick={() => void download()}>Download</button>
        <button type="button" data-testid="checkpoint-delete" disabled={busy !== null} onClick={() => void removeCheckpoint(id)}>Delete</button>
      </td>
    </tr>
  );
}

/** Checkpoints: save, the list with resume / download / delete, load from a file. */
function CheckpointSection() {
  const ids = useCheckpointStore((s) => s.checkpoints.map((c) => c.id).join('\n'));
  const broken = useCheckpointStore((s) => s.broken);
  const busy = useCheckpointStore((s) => s.busy);
  const message = useCheckpointStore((s) => s.message);
  const savedStep = useCheckpointStore((s) => s.savedStep);
  const savedAt = useCheckpointStore((s) => s.savedAt);
  const step = useRunStore((s) => latestStep(s)?.step ?? 0);
  const ready = useRunStore((s) => s.model !== null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [, tick] = useState(0);
  useEffect(() => {
    void refreshCheckpoints();
    // the “saved 3 min ago” line moves on
    const timer = setInterval(() => tick((n) => n + 1), 30_000);
    return () => clearInterval(timer);
  }, []);
  const list = ids ? ids.split('\n') : [];
  return (
    <section className="panel save-section" data-testid="checkpoint-panel" aria-label="Checkpoints" aria-busy={busy !== null}>
      <h2>Checkpoints</h2>
      <p className="panel-help">
        A checkpoint holds everything the run needs to carry on exactly: the weights of f and g, Adam’s moments, the method’s
        own state (queue, bank, momentum encoder, centroids), the batch order and random stream, the settings, and the history
        behind every chart. The run is saved in this browser when you pause, every {AUTOSAVE_MS / 60_000} minutes while it
        trains, and when the page is hidden or closed (where the browser lets the save finish); after a reload the page offers
        to resume it.
      </p>
      <div className="save-status" data-testid="checkpoint-status" data-saved-step={savedStep ?? ''}>
        {savedStep !== null && savedAt !== null
          ? <>This run was saved at step {savedStep.toLocaleString('en-US')} {ago(savedAt)}{step > savedStep ? `; ${step - savedStep} steps since` : ''}.</>
          : step > 0 ? <>This run has not been saved yet.</> : <>Nothing to save until the run has trained a step.</>}
      </div>
      <div className="save-actions">
        <button type="button" className="primary" data-testid="checkpoint-save" disabled={!ready || busy !== null} onClick={() => void saveCheckpoint('manual')}>
          {busy === 'saving' ? 'Saving…' : 'Save a checkpoint'}
        </button>
        <button type="button" data-testid="checkpoint-upload-button" disabled={busy !== null} onClick={() => fileInput.current?.click()}>
          Load a checkpoint file…
        </button>
        <input
          ref={fileInput} type="file" accept={`${CHECKPOINT_EXTENSION},.safetensors`} hidden data-testid="checkpoint-upload"
          onChange={(event) => {
            const file = event.target.files?.[0];
            event.target.value = '';
            if (file) void resumeFromFile(file);
          }}
        />
      </div>
      {message && (
        <div className={message.kind === 'error' ? 'eval-error' : 'eval-status'} role={message.kind === 'error' ? 'alert' : 'status'} data-testid="checkpoint-message" data-kind={message.kind}>
          {message.text}
        </div>
      )}
      {list.length > 0 ? (
        <table className="checkpoint-list" data-testid="checkpoint-list">
          <thead><tr><th>Step</th><th>Method</th><th>Dataset</th><th>Size</th><th>Saved</th><th /></tr></thead>
          <tbody>{list.map((id) => <CheckpointRow key={id} id={id} />)}</tbody>
        </table>
      ) : (
        <p className="panel-help" data-testid="checkpoint-empty">No checkpoints are stored in this browser yet.</p>
      )}
      {broken > 0 && <p className="eval-error">{broken} stored checkpoint{broken === 1 ? '' : 's'} could not be read and {broken === 1 ? 'is' : 'are'} not listed.</p>}
    </section>
  );
}

const FORMAT_TEXT: Record<WeightsFormat, { label: string; testId: string; title: string }> = {
  safetensors: { label: 'Encoder as safetensors', testId: 'weights-export', title: 'f and g under PyTorch’s names and layouts: model.load_state_dict(...) in the modules the README describes' },
  onnx: { label: 'Encoder f as ONNX', testId: 'onnx-export', title: `input “${ONNX_INPUT_NAME}” [N, C, S, S] in [0, 1], output “${ONNX_OUTPUT_NAMES.h}”: for onnxruntime, Netron, or any ONNX tool` },
  'onnx-head': { label: 'f then g as ONNX', testId: 'onnx-export-head', title: `the same, with the projection head: outputs “${ONNX_OUTPUT_NAMES.h}” and “${ONNX_OUTPUT_NAMES.z}”` },
};

/** The trained encoder as a file: safetensors (PyTorch's names) or ONNX. */
function EncoderExport() {
  const weights = useEvalStore((s) => s.weights);
  const blocker = useEvaluationBlocker();
  const step = useRunStore((s) => latestStep(s)?.step ?? 0);
  useDownloadWhenReady(weights.file, weights.requestId, 'application/octet-stream');
  return (
    <section className="panel save-section" data-testid="encoder-export" aria-label="Export the encoder">
      <h2>Export the encoder</h2>
      <p className="panel-help">
        The encoder at step {step.toLocaleString('en-US')}{step === 0 ? ' (untrained: the file says so)' : ''}. ONNX input
        “{ONNX_INPUT_NAME}”: float32 [N, C, S, S], pixels in [0, 1], no normalization, any N; outputs “{ONNX_OUTPUT_NAMES.h}”
        [N, 8w] and, with the head, “{ONNX_OUTPUT_NAMES.z}”. The safetensors file uses PyTorch’s names, for the script below
        and your own code.
      </p>
      <div className="save-actions">
        {(Object.keys(FORMAT_TEXT) as WeightsFormat[]).map((format) => (
          <button key={format} type="button" data-testid={FORMAT_TEXT[format].testId} title={FORMAT_TEXT[format].title}
            disabled={weights.pending || blocker !== null} onClick={() => evaluation.exportWeights(format)}>
            {weights.pending && weights.format === format ? 'Exporting…' : FORMAT_TEXT[format].label}
          </button>
        ))}
      </div>
      {blocker && <p className="panel-help">{blocker}</p>}
      {weights.file && !weights.pending && <span className="eval-status" data-testid="weights-export-done">{weights.file.fileName}</span>}
      {weights.error && <span className="eval-error" role="alert" data-testid="weights-export-error">The export failed: {weights.error}</span>}
    </section>
  );
}

/** The Save & export tab: checkpoints, the encoder as a file, the experiment as a PyTorch script. */
export function SaveExportPanel() {
  return (
    <div className="save-export">
      <CheckpointSection />
      <EncoderExport />
      <PytorchExport />
    </div>
  );
}
