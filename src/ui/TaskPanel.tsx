import { useMemo } from 'react';
import type { MethodEntry } from '../core/methods';
import type { TaskSnapshot } from '../train/protocol';
import { PixelCanvas } from './PixelCanvas';
import { confusionCells, taskSnapshotProblem, toBytes } from './taskPanel';
import './taskPanel.css';

/** Above this many classes the confusion matrix is drawn as pixels rather than a table of counts (jigsaw's P up to 100). */
const TABLE_MAX_CLASSES = 12;

/**
 * A pretext task's instrument: a few examples of the latest captured batch
 * (the task's input, the head's answer, the truth), each with its caption and
 * a mark where the head was right or wrong, and for a classification task the
 * confusion matrix of true against predicted class over the whole batch.
 * Test ids: task-panel, task-summary, task-example (data-correct),
 * task-confusion (data-classes), task-waiting.
 */
export function TaskPanel({ snapshot, method }: { snapshot: TaskSnapshot | null; method: MethodEntry }) {
  if (!snapshot || snapshot.method !== method.id) {
    return (
      <figure className="panel task-panel" data-testid="task-waiting">
        <h2>{method.label}: the task</h2>
        <p className="hint">{method.summary} Press Train or Step: the batch’s task, the head’s answers and the truth appear here.</p>
      </figure>
    );
  }
  const problem = taskSnapshotProblem(snapshot);
  return (
    <figure className="panel task-panel" data-testid="task-panel" data-step={snapshot.step}>
      <h2>{method.label}: the task at step {snapshot.step}</h2>
      <p className="hint">{method.summary}</p>
      {problem ? (
        <p className="task-summary task-summary-broken" data-testid="task-summary">This instrument’s data is inconsistent and is not drawn: {problem}</p>
      ) : (
        <>
          <TaskExamples snapshot={snapshot} />
          <p className="task-summary" data-testid="task-summary">{snapshot.summary}</p>
          {snapshot.confusion && <Confusion labels={snapshot.confusion.labels} counts={snapshot.confusion.counts} />}
        </>
      )}
    </figure>
  );
}

function TaskExamples({ snapshot }: { snapshot: TaskSnapshot }) {
  const rows = useMemo(() => snapshot.rows.map((row) => ({ ...row, bytes: toBytes(row.images) })), [snapshot]);
  const examples = Array.from({ length: snapshot.count }, (_, e) => e);
  return (
    <div className="task-examples" role="list" aria-label="Examples from the batch">
      <div className="task-row-labels" aria-hidden="true">
        {rows.map((row) => <span key={row.label}>{row.label}</span>)}
      </div>
      {examples.map((e) => {
        const correct = snapshot.correct?.[e];
        return (
          <div
            key={e}
            role="listitem"
            className={`task-example${correct === undefined ? '' : correct ? ' task-right' : ' task-wrong'}`}
            data-testid="task-example"
            data-correct={correct === undefined ? undefined : String(correct)}
          >
            {rows.map((row) => (
              <PixelCanvas key={row.label} batch={row.bytes} index={e} size={row.size} channels={row.channels} label={`${row.label}, example ${e + 1}`} px={56} />
            ))}
            <span className="task-caption">
              {correct !== undefined && <span className="task-mark" aria-label={correct ? 'right' : 'wrong'}>{correct ? '✓' : '✗'} </span>}
              {snapshot.captions[e]}
            </span>
          </div>
        );
      })}
    </div>
  );
}

function Confusion({ labels, counts }: { labels: string[]; counts: number[] }) {
  const k = labels.length;
  const cells = useMemo(() => confusionCells(counts, k), [counts, k]);
  if (k > TABLE_MAX_CLASSES) {
    // one pixel per cell, darker for a larger share of its true class
    const bytes = new Uint8Array(k * k);
    cells.forEach((c, i) => { bytes[i] = Math.round(255 * (1 - c.share)); });
    return (
      <div className="task-confusion" data-testid="task-confusion" data-classes={k}>
        <p className="task-confusion-axes">Confusion over the batch: rows the true class ({labels[0]}…{labels[k - 1]}), columns the head’s answer; dark is a large share of the row.</p>
        <PixelCanvas batch={bytes} index={0} size={k} channels={1} label={`Confusion matrix of ${k} classes`} px={Math.min(320, 4 * k)} />
      </div>
    );
  }
  return (
    <div className="task-confusion" data-testid="task-confusion" data-classes={k}>
      <table>
        <caption>Confusion over the batch: rows the truth, columns the head’s answer (share of the row)</caption>
        <thead>
          <tr>
            <th scope="col">true ↓ · said →</th>
            {labels.map((l) => <th key={l} scope="col">{l}</th>)}
          </tr>
        </thead>
        <tbody>
          {labels.map((l, t) => (
            <tr key={l}>
              <th scope="row">{l}</th>
              {cells.slice(t * k, (t + 1) * k).map((c) => (
                <td
                  key={c.predicted}
                  className={c.truth === c.predicted ? 'task-diagonal' : undefined}
                  style={{ background: `rgba(37, 99, 235, ${(0.85 * c.share).toFixed(3)})`, color: c.share > 0.55 ? 'white' : undefined }}
                  title={`${c.count} of the ${l} examples said ${labels[c.predicted]}`}
                >
                  {c.count}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
