import { useState } from 'react';
import { METHOD_CATALOG } from '../core/methods';
import { DEFAULT_PYTORCH_STEPS, PYTORCH_EXPORT_METHODS, pytorchExportFiles, pytorchExportProblem, pytorchExportZip } from '../export/pytorchExport';
import { latestStep, useRunStore } from '../state/runStore';
import { datasetImageFolder, encoderBytes } from '../state/trainingClient';
import { downloadBlob } from './compareDownload';
import { useEvaluationBlocker } from './useEvaluationBlocker';

/**
 * “Export as PyTorch” (issue 21): the experiment as a self-contained train.py
 * with its config.json and a README, optionally with the trained encoder to
 * start from, zipped; runs on one device with `python train.py`, on K GPUs
 * with `torchrun --nproc_per_node=K train.py` under DistributedDataParallel.
 */
export function PytorchExport() {
  const applied = useRunStore((s) => s.appliedConfig);
  const dataset = useRunStore((s) => s.dataset);
  const step = useRunStore((s) => latestStep(s)?.step ?? 0);
  const blocker = useEvaluationBlocker();
  const [withEncoder, setWithEncoder] = useState(true);
  const [steps, setSteps] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [imagesBusy, setImagesBusy] = useState(false);
  const [imagesResult, setImagesResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const exportImages = async () => {
    setImagesBusy(true);
    setImagesResult(null);
    try {
      const { bytes, fileName, count } = await datasetImageFolder();
      downloadBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), fileName);
      setImagesResult({ kind: 'ok', text: `${fileName}: ${count.toLocaleString('en-US')} images in data/<class>/, ${(bytes.length / 1e6).toFixed(1)} MB. Unzip it beside train.py and pass --data data.` });
    } catch (error) {
      setImagesResult({ kind: 'error', text: `The export failed: ${error instanceof Error ? error.message : String(error)}` });
    } finally {
      setImagesBusy(false);
    }
  };
  const problem = applied ? pytorchExportProblem(applied) : null;
  const stepsValue = steps.trim() === '' ? DEFAULT_PYTORCH_STEPS : Number(steps);
  const stepsProblem = Number.isInteger(stepsValue) && stepsValue >= 1 && stepsValue <= 10_000_000 ? null : 'Steps must be a whole number from 1 to 10,000,000.';
  const includeEncoder = withEncoder && step > 0;

  const exportZip = async () => {
    if (!applied || !dataset || problem || stepsProblem) return;
    setBusy(true);
    setResult(null);
    try {
      const encoder = includeEncoder ? await encoderBytes() : undefined;
      const files = pytorchExportFiles(applied, { imageSize: dataset.imageSize, channels: dataset.channels }, { steps: stepsValue, encoder });
      const name = `pytorch-${applied.method}-step${step}`;
      downloadBlob(new Blob([pytorchExportZip(files, name) as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `${name}.zip`);
      setResult({ kind: 'ok', text: `${name}.zip: train.py, config.json, README.md${encoder ? ', encoder.safetensors (step ' + step + ')' : ''}.` });
    } catch (error) {
      setResult({ kind: 'error', text: `The export failed: ${error instanceof Error ? error.message : String(error)}` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel save-section" data-testid="pytorch-export-panel" aria-label="Export as PyTorch">
      <h2>The same experiment in PyTorch</h2>
      <p className="panel-help">
        The browser is for seeing and for small runs. For a real dataset, or several GPUs, export this experiment as a
        PyTorch script: the same encoder and head, augmentations with the same parameters, the same loss and Adam. It reads
        an ImageFolder directory (one folder of images per class) and runs on one CPU or GPU, or on K GPUs under
        DistributedDataParallel, computing the loss over all K GPUs’ batches as the papers do at scale (SimCLR’s negatives
        and MoCo’s keys gathered from every GPU, Barlow Twins’ cross-correlation over the global batch, batch norm
        synchronized). Covered so far: {PYTORCH_EXPORT_METHODS.map((m) => METHOD_CATALOG[m].label).join(', ')}.
      </p>
      <pre className="pytorch-commands" data-testid="pytorch-commands">{[
        'python train.py --config config.json --data data' + (includeEncoder ? ' --init encoder.safetensors' : ''),
        'torchrun --nproc_per_node=4 train.py --config config.json --data data',
      ].join('\n')}</pre>
      <div className="save-actions">
        <label>
          Steps to train{' '}
          <input type="text" inputMode="numeric" size={9} data-testid="pytorch-steps" placeholder={String(DEFAULT_PYTORCH_STEPS)}
            value={steps} onChange={(event) => setSteps(event.target.value)} aria-invalid={stepsProblem !== null} />
        </label>
        <label title={step === 0 ? 'The encoder has not trained yet: the script starts from the same random initialization by itself' : undefined}>
          <input type="checkbox" data-testid="pytorch-with-encoder" checked={includeEncoder} disabled={step === 0}
            onChange={(event) => setWithEncoder(event.target.checked)} />{' '}
          start from this encoder (step {step.toLocaleString('en-US')})
        </label>
        <button type="button" className="primary" data-testid="pytorch-export"
          disabled={busy || blocker !== null || problem !== null || stepsProblem !== null || !applied || !dataset} onClick={() => void exportZip()}>
          {busy ? 'Exporting…' : 'Export as PyTorch'}
        </button>
      </div>
      <div className="save-actions">
        <button type="button" data-testid="pytorch-dataset-export" disabled={imagesBusy || blocker !== null || !dataset}
          title="Every training image as a PNG in a folder per class: the ImageFolder layout train.py reads"
          onClick={() => void exportImages()}>
          {imagesBusy ? 'Exporting…' : `Training images as an ImageFolder${dataset ? ` (${dataset.trainCount.toLocaleString('en-US')})` : ''}`}
        </button>
      </div>
      {imagesResult && (
        <p className={imagesResult.kind === 'error' ? 'eval-error' : 'eval-status'} role={imagesResult.kind === 'error' ? 'alert' : 'status'} data-testid="pytorch-dataset-export-result" data-kind={imagesResult.kind}>
          {imagesResult.text}
        </p>
      )}
      {problem && <p className="panel-help" data-testid="pytorch-export-problem">{problem}</p>}
      {stepsProblem && steps.trim() !== '' && <p className="eval-error" role="alert">{stepsProblem}</p>}
      {result && (
        <p className={result.kind === 'error' ? 'eval-error' : 'eval-status'} role={result.kind === 'error' ? 'alert' : 'status'} data-testid="pytorch-export-result" data-kind={result.kind}>
          {result.text}
        </p>
      )}
    </section>
  );
}
