import { useEffect, useRef, type ReactNode } from 'react';
import { METHOD_CATALOG } from '../core/methods';
import { useRunStore } from '../state/runStore';
import { walkthrough } from '../state/trainingClient';
import { UPDATE_STOP, stopCount, useWalkthroughStore } from '../state/walkthroughStore';
import { WALKTHROUGH_MAX_N, WALKTHROUGH_MIN_N } from '../train/protocol';
import { MethodConvention, MethodWalkthrough } from './MethodWalkthrough';
import { StepThroughTensors } from './StepThroughTensors';
import { isWalkthroughMethod } from './methodWalkthrough';
import './stepthrough.css';

/**
 * SimCLR's Algorithm 1 as printed in the paper (Chen et al. 2020). Lines with
 * a stop are where the walkthrough halts and shows that line's tensors.
 */
const LISTING: { code: ReactNode; stop?: number; indent: number; comment?: string }[] = [
  { indent: 0, code: <>input: batch size N, constant τ, structure of f, g, T.</> },
  { indent: 0, stop: 0, code: <>for sampled minibatch {'{'}x<sub>k</sub>{'}'}<sub>k=1</sub><sup>N</sup> do</> },
  {
    indent: 1, stop: 1, comment: 'two views of each image',
    code: <>draw two augmentation functions t ∼ T, t′ ∼ T;&ensp;x̃<sub>2k−1</sub> = t(x<sub>k</sub>), x̃<sub>2k</sub> = t′(x<sub>k</sub>)</>,
  },
  { indent: 1, stop: 2, comment: 'representation', code: <>h<sub>i</sub> = f(x̃<sub>i</sub>)</> },
  { indent: 1, stop: 3, comment: 'projection', code: <>z<sub>i</sub> = g(h<sub>i</sub>)</> },
  {
    indent: 1, stop: 4, comment: 'pairwise similarity',
    code: <>s<sub>i,j</sub> = z<sub>i</sub><sup>⊤</sup>z<sub>j</sub> / (‖z<sub>i</sub>‖ ‖z<sub>j</sub>‖)&ensp;for all i, j ∈ {'{'}1 … 2N{'}'}</>,
  },
  {
    indent: 1, stop: 5,
    code: <>ℓ(i, j) = −log [ exp(s<sub>i,j</sub>/τ) / Σ<sub>k=1</sub><sup>2N</sup> 1<sub>[k≠i]</sub> exp(s<sub>i,k</sub>/τ) ]</>,
  },
  {
    indent: 1, stop: 6,
    code: <>L = <sup>1</sup>⁄<sub>2N</sub> Σ<sub>k=1</sub><sup>N</sup> [ℓ(2k−1, 2k) + ℓ(2k, 2k−1)]</>,
  },
  { indent: 1, stop: 7, code: <>update networks f and g to minimize L</> },
  { indent: 0, code: <>end for</> },
  { indent: 0, code: <>return encoder network f(·), and throw away g(·)</> },
];

/** What each stop says in words, under its line. */
const EXPLAIN = [
  'N training images drawn at random from the active dataset.',
  'Every image goes through two independent random augmentations from the pipeline in the Augmentations panel: the same code a training step runs.',
  'The encoder f (in training mode, batch statistics) turns each of the 2N views into a representation h: the vector the linear probe reads.',
  'The projection head g maps h to z, where the loss is computed; after training g is thrown away.',
  'Every view is compared with every other. A good encoder makes the two views of one image (the positives, boxed) the most similar pair in their row.',
  'For each anchor i, the loss is the cross-entropy of picking its positive out of the 2N − 1 other views with a softmax at temperature τ.',
  'The loss of the batch is the mean over all 2N anchors.',
  'The gradient of L moves every weight of f and g a little.',
];

/** A stable empty list: a selector returning a new [] each time would re-render forever. */
const NO_CLASSES: string[] = [];

const isEditable = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));

/**
 * Lecture mode: one small minibatch walked through the method's Algorithm 1
 * line by line, with the real tensors of the current model, and one real
 * update at the end. SimCLR's listing is typeset here; the other methods'
 * come from the catalog (MethodWalkthrough).
 */
export function StepThroughPanel() {
  const panel = useRef<HTMLElement>(null);
  const { batchSize, pending, result, line, presenting, error } = useWalkthroughStore();
  const { next, previous, goTo, setPresenting, setBatchSize } = useWalkthroughStore.getState();
  const status = useRunStore((s) => s.status);
  const ready = useRunStore((s) => s.model !== null);
  const classNames = useRunStore((s) => s.dataset?.classNames ?? NO_CLASSES);
  const training = status === 'running' || status === 'probing';
  // the method the next walkthrough runs; the listing shows the latest result's (a reset clears the result)
  const method = METHOD_CATALOG[useRunStore((s) => s.appliedConfig?.method ?? 'simclr')];
  const shown = result ? METHOD_CATALOG[result.method] : method;
  const stops = stopCount(result);
  const blocked = !ready || status === 'loading'
    ? 'Waiting for the dataset and the encoder.'
    : !method.walkthrough
      ? `${method.label} has no step-by-step walkthrough yet. Pick another method and press Reset to step through it.`
      : training
      ? 'Pause training first: the walkthrough applies one real update to the model, so it waits its turn between training steps, and a running model would have moved on by the time you read its numbers.'
      : null;

  // ← → step through the lines while the panel has focus, or anywhere in presentation mode; Esc ends presentation mode
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || isEditable(e.target)) return;
      const { presenting: on } = useWalkthroughStore.getState();
      if (e.key === 'Escape') {
        if (on) {
          e.preventDefault();
          useWalkthroughStore.getState().setPresenting(false);
        }
        return;
      }
      if (!on && !(e.target instanceof Node && panel.current?.contains(e.target))) return;
      const store = useWalkthroughStore.getState();
      if (e.key === 'ArrowRight' || e.key === 'PageDown') store.next();
      else if (e.key === 'ArrowLeft' || e.key === 'PageUp') store.previous();
      else if (e.key === 'Home') store.goTo(0);
      else if (e.key === 'End') store.goTo(stopCount(store.result) - 1);
      else return;
      e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  // presentation mode is a class on the document root: the stylesheet hides everything but this panel
  useEffect(() => {
    const root = document.documentElement;
    root.classList.toggle('presenting', presenting);
    if (presenting) {
      window.scrollTo(0, 0);
      panel.current?.focus({ preventScroll: true });
    }
    return () => root.classList.remove('presenting');
  }, [presenting]);

  // the Start button is disabled while the worker computes, which drops focus to the page: give it back to the panel
  useEffect(() => {
    const active = document.activeElement;
    if (result && (!active || active === document.body || (panel.current?.contains(active) && (active as HTMLButtonElement).disabled))) {
      panel.current?.focus({ preventScroll: true });
    }
  }, [result]);

  // in presentation mode the current line and its tensors stay on screen as the lecture moves on
  useEffect(() => {
    if (presenting && result) panel.current?.querySelector('[aria-current="step"]')?.scrollIntoView({ block: 'nearest' });
  }, [presenting, result, line]);

  const twoN = result ? 2 * result.n : 2 * batchSize;

  return (
    <section
      ref={panel}
      className={`panel stepthrough${presenting ? ' stepthrough-presenting' : ''}`}
      data-testid="stepthrough-panel"
      tabIndex={-1}
      aria-labelledby="stepthrough-title"
    >
      <div className="st-head">
        <h2 id="stepthrough-title">Algorithm 1, step by step: {shown.label}</h2>
        <div className="st-controls" role="toolbar" aria-label="Walkthrough controls">
          <label className="st-n">
            N =
            <select value={batchSize} onChange={(e) => setBatchSize(Number(e.target.value))} disabled={pending}>
              {Array.from({ length: WALKTHROUGH_MAX_N - WALKTHROUGH_MIN_N + 1 }, (_, k) => WALKTHROUGH_MIN_N + k).map((n) => (
                <option key={n} value={n}>{n}</option>
              ))}
            </select>
          </label>
          <button
            type="button" className="st-primary" data-testid="stepthrough-start" disabled={blocked !== null || pending}
            onClick={() => walkthrough.start()} title={blocked ?? 'Draw N images, run them through f and g, and apply one update'}
          >
            {result ? 'New minibatch' : 'Start'}
          </button>
          <button type="button" data-testid="stepthrough-prev" disabled={!result || line === 0} onClick={previous} aria-keyshortcuts="ArrowLeft">
            ← Previous
          </button>
          <button type="button" data-testid="stepthrough-next" disabled={!result || line === stops - 1} onClick={next} aria-keyshortcuts="ArrowRight">
            Next →
          </button>
          {result && <span className="st-progress">{line + 1} / {stops}</span>}
          <button
            type="button" data-testid="stepthrough-present" aria-pressed={presenting} onClick={() => setPresenting(!presenting)}
            title={presenting ? 'Leave presentation mode (Esc)' : 'Large type, everything else hidden'}
          >
            {presenting ? 'Leave presentation (Esc)' : 'Presentation mode'}
          </button>
        </div>
      </div>

      {!presenting && (
        <p className="hint">
          Walks N = {WALKTHROUGH_MIN_N}–{WALKTHROUGH_MAX_N} images of the active dataset through {shown.label}&apos;s Algorithm 1
          ({shown.paper.cite}) with the current encoder: every number is computed by the model you are training. <kbd>←</kbd> <kbd>→</kbd> move
          between lines while this panel has focus (anywhere in presentation mode). Start computes all lines at once in the worker, including one
          real update of the model on this batch{shown.id === 'simclr' ? '' : ' and what the method updates after it'}, then reveals them line by line.
        </p>
      )}
      {blocked && <p className="st-blocked" data-testid="stepthrough-blocked">{blocked}</p>}
      {pending && (
        <p className="st-pending" role="status">
          {method.id === 'simclr'
            ? `Computing in the worker: h and z for ${2 * batchSize} views, s, L, the gradient, one update, and L again…`
            : `Computing in the worker: z for ${2 * batchSize} views, ${method.label}’s matrix and ${method.lossName}, the gradient, one update, the method’s after-update, and L again…`}
        </p>
      )}
      {error && <p className="st-error" role="alert">{error}</p>}

      {shown.id === 'simclr' ? (
        <>
          <p className="st-convention">
            Row order: the paper interleaves the views (x̃<sub>2k−1</sub>, x̃<sub>2k</sub>, counting from 1). This app, like its affinity heatmap,
            concatenates them and counts from 0: rows 0…N−1 are t(x<sub>k</sub>), rows N…2N−1 are t′(x<sub>k</sub>), so the positive of row i is
            i ± N{result ? ` (here N = ${result.n}, 2N = ${twoN})` : ''}. L is the same sum in another order.
          </p>

          <ol className="st-listing" aria-label="Algorithm 1" data-testid="stepthrough-algorithm" data-method="simclr">
            {LISTING.map((entry, k) => {
              const current = result !== null && entry.stop === line;
              const done = result !== null && entry.stop !== undefined && entry.stop < line;
              return (
                <li
                  key={k}
                  className={`st-line st-indent-${entry.indent}${entry.stop === undefined ? ' st-line-plain' : ''}${current ? ' st-current' : ''}${done ? ' st-done' : ''}`}
                  data-testid={current ? 'stepthrough-line' : undefined}
                  data-value={current ? line : undefined}
                  aria-current={current ? 'step' : undefined}
                  onClick={entry.stop !== undefined ? () => goTo(entry.stop!) : undefined}
                >
                  <code className="st-code">
                    {entry.code}
                    {entry.comment && <span className="st-comment">&ensp;# {entry.comment}</span>}
                  </code>
                  {current && result && (
                    <div className="st-detail">
                      <p className="st-explain">{EXPLAIN[line]}</p>
                      {result.method === 'simclr' && <StepThroughTensors line={line} r={result} classNames={classNames} />}
                      {line === UPDATE_STOP && (
                        <p className="st-note">New minibatch draws another batch and runs another step; Train carries on training from here.</p>
                      )}
                    </div>
                  )}
                </li>
              );
            })}
          </ol>
        </>
      ) : isWalkthroughMethod(shown.id) ? (
        <>
          <MethodConvention id={shown.id} r={result && result.method !== 'simclr' ? result : null} />
          <MethodWalkthrough
            id={shown.id} result={result && result.method !== 'simclr' ? result : null} line={line} goTo={goTo} classNames={classNames}
          />
        </>
      ) : (
        <p className="hint" data-testid="stepthrough-none">
          {shown.label} is a pretext task, not a two-view method: it has no Algorithm 1 to walk through. Its own instrument, in the
          Affinity tab, shows each batch’s task inputs, the head’s answers and the truth.
        </p>
      )}
    </section>
  );
}
