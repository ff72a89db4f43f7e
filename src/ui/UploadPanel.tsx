import { useRef, useState, type DragEvent } from 'react';
import { useDatasetStore, uploads } from '../state/datasetStore';

/** Files from a drop, folders included (DataTransferItem.webkitGetAsEntry walks directories). */
async function filesFromDrop(event: DragEvent): Promise<File[]> {
  const entries = Array.from(event.dataTransfer.items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return Array.from(event.dataTransfer.files);
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      // keep the folder path: labels come from the parent folder (ImageFolder convention)
      files.push(new File([file], `${path}${file.name}`, { type: file.type, lastModified: file.lastModified }));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return files;
}

/** Files from an input; a folder input gives each file its relative path. */
function filesFromInput(input: HTMLInputElement): File[] {
  return Array.from(input.files ?? []).map((file) =>
    file.webkitRelativePath ? new File([file], file.webkitRelativePath, { type: file.type, lastModified: file.lastModified }) : file,
  );
}

export function UploadPanel() {
  const progress = useDatasetStore((s) => s.progress);
  const summary = useDatasetStore((s) => s.summary);
  const uploadError = useDatasetStore((s) => s.uploadError);
  const skipped = useDatasetStore((s) => s.skipped);
  const [imageSize, setImageSize] = useState<16 | 32 | 64>(32);
  const [fit, setFit] = useState<'crop' | 'letterbox'>('crop');
  const [testShare, setTestShare] = useState(0.2);
  const [dragging, setDragging] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  // the decoder names the set from its files (src/data/upload/datasetName.ts): a zip's or folder's name
  const start = (files: File[]) => {
    uploads.start(files, { imageSize, fit, testShare });
  };

  return (
    <details className="upload" open={!!progress || !!summary || !!uploadError}>
      <summary>Upload your own images</summary>
      <p className="hint">
        Images, a folder, or a .zip. Put each class in its own folder (<code>cats/1.png</code>, <code>dogs/2.jpg</code>): the
        folder name is the label. PNG, JPEG, WebP, GIF (first frame) and BMP. Everything stays in your browser.
      </p>
      <div className="upload-options">
        <label>
          Size
          <select value={imageSize} onChange={(e) => setImageSize(Number(e.target.value) as 16 | 32 | 64)} data-testid="upload-size">
            <option value={16}>16 px</option>
            <option value={32}>32 px</option>
            <option value={64}>64 px</option>
          </select>
        </label>
        <label>
          Fit
          <select value={fit} onChange={(e) => setFit(e.target.value as 'crop' | 'letterbox')} data-testid="upload-fit">
            <option value="crop">centre crop</option>
            <option value="letterbox">letterbox</option>
          </select>
        </label>
        <label>
          Test share
          <select value={testShare} onChange={(e) => setTestShare(Number(e.target.value))} data-testid="upload-test-share">
            {[0.1, 0.2, 0.3, 0.5].map((v) => <option key={v} value={v}>{v * 100}%</option>)}
          </select>
        </label>
      </div>
      <div
        className={`dropzone${dragging ? ' dropzone-active' : ''}`}
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)}
        onDrop={async (e) => {
          e.preventDefault();
          setDragging(false);
          const files = await filesFromDrop(e);
          start(files);
        }}
      >
        Drop images, folders or a .zip here, or
        <div className="upload-buttons">
          <button type="button" onClick={() => filesInput.current?.click()} disabled={!!progress}>choose files…</button>
          <button type="button" onClick={() => folderInput.current?.click()} disabled={!!progress}>choose a folder…</button>
        </div>
        <input
          ref={filesInput} type="file" multiple hidden data-testid="dataset-upload"
          accept="image/png,image/jpeg,image/webp,image/gif,image/bmp,.zip,application/zip"
          onChange={(e) => {
            const files = filesFromInput(e.currentTarget);
            e.currentTarget.value = '';
            start(files);
          }}
        />
        <input
          ref={folderInput} type="file" multiple hidden data-testid="dataset-upload-folder"
          {...({ webkitdirectory: '' } as Record<string, string>)}
          onChange={(e) => {
            const files = filesFromInput(e.currentTarget);
            e.currentTarget.value = '';
            start(files);
          }}
        />
      </div>
      {progress && (
        <div className="upload-progress" data-testid="upload-progress">
          <progress value={progress.done} max={Math.max(progress.total, 1)} />
          <span>{progress.phase}: {progress.done.toLocaleString()} of {progress.total.toLocaleString()}</span>
          <button type="button" onClick={uploads.cancel} data-testid="upload-cancel">Cancel</button>
        </div>
      )}
      {uploadError && <div className="field-error" role="alert" data-testid="upload-error">{uploadError}</div>}
      {summary && (
        <div className="upload-summary" data-testid="upload-summary">
          <strong>{summary.name}</strong>: {summary.imageCount.toLocaleString()} images ({summary.trainCount} train, {summary.testCount} test),{' '}
          {summary.labelled ? `${summary.classNames.length} classes` : 'no labels'}
          {summary.truncatedAt !== undefined && <div className="field-error">Only the first {summary.truncatedAt.toLocaleString()} files were read (the limit).</div>}
          {!summary.labelled && summary.unlabelledReason && <div className="hint">{summary.unlabelledReason}</div>}
          {summary.labelled && (
            <ul className="class-list">
              {summary.classNames.map((name, k) => <li key={k}>{name}: {summary.classCounts[k]}</li>)}
            </ul>
          )}
        </div>
      )}
      {(summary || skipped.length > 0) && (
        <details className="skipped" data-testid="dataset-skipped" data-value={skipped.length} open={skipped.length > 0 && skipped.length <= 10}>
          <summary>{skipped.length === 0 ? 'No files skipped' : `${skipped.length} file${skipped.length > 1 ? 's' : ''} skipped`}</summary>
          <ul>
            {skipped.slice(0, 200).map((s, i) => (
              <li key={i}><span className="skipped-name">{s.name}</span>: {s.reason}</li>
            ))}
            {skipped.length > 200 && <li>… and {skipped.length - 200} more</li>}
          </ul>
        </details>
      )}
    </details>
  );
}
