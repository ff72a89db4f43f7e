import type { ReactNode } from 'react';
import { lossReference, METHOD_CATALOG, type MethodEntry, type WalkthroughStage } from '../core/methods';
import { methodStages } from '../state/walkthroughStore';
import type { MethodWalkthrough as MethodResult } from '../train/protocol';
import { MethodMatrixPanel } from './MethodMatrixPanel';
import { metricText, methodListing, stageMetrics, typeset, type Piece, type WalkthroughMethodId } from './methodWalkthrough';
import { Fact, LossBeforeAfter, num, Thumbs, VectorTable, Views } from './StepThroughTensors';

/** What each method's walkthrough says in words: how its paper names the two views, and each stop's explanation. */
interface MethodWords {
  /** the paper's names of t(x) and t′(x) */
  viewNames: ReactNode;
  views: string;
  encode: string;
  /** what the rows of the z table are */
  zRows: ReactNode;
  matrix: string;
  loss: string;
  update: string;
  /** after the update: what changed besides the weights, or that nothing did */
  afterUpdate: (r: MethodResult) => string;
}

const WORDS: Record<WalkthroughMethodId, MethodWords> = {
  moco: {
    viewNames: <>x<sub>q</sub>, x<sub>k</sub></>,
    views: 'x_q = t(x) goes to the query encoder, x_k = t′(x) to the key encoder.',
    encode:
      'The query encoder f_q = (f, g) turns x_q into queries q; the key encoder f_k, a momentum copy of f_q that the optimizer never sees, turns x_k into keys k. ' +
      'Batch norm runs over two halves of the batch, the keys’ halves drawn from a shuffled order, so a query and its key never share batch statistics (MoCo’s shuffling BN, on one device).',
    zRows: <>rows 0…N−1 are the queries q = f<sub>q</sub>(x<sub>q</sub>), rows N…2N−1 the keys k = f<sub>k</sub>(x<sub>k</sub>), before normalization</>,
    matrix:
      'Each query against its own key (column 0, l_{pos}) and against the queue’s keys (l_{neg}, newest first), as cosines before /τ. ' +
      'This is the queue before this batch’s keys join it: slots still holding their random start are faded and hatched.',
    loss:
      'A (1 + K)-way classification for each query: which of [its own key, the K queued keys] is its key? labels = 0 says the answer is always column 0. ' +
      'An encoder that cannot tell the keys apart scores log(1 + K).',
    update:
      'Only f_q (f and g) gets the gradient; the key encoder has none. L after is measured with everything as the step left it: the key encoder after its momentum step, and the queue now holding these N keys, ' +
      'so each query also meets an earlier copy of its own key among the negatives, which can hold L after up.',
    afterUpdate: (r) =>
      `The key encoder moved a share 1 − m = ${num(1 - r.settings.momentum, 3)} of the way towards the query encoder. Then the ${r.n} keys k̂ of this batch were written over the queue’s ${r.n} oldest slots ` +
      '(first in, first out; the write pointer moved on by N): the next step meets them as the queue’s newest negatives. Never-written slots still hold the random unit vectors the queue starts with.',
  },
  'memory-bank': {
    viewNames: <>t(x), t′(x)</>,
    views: 'Both views of each image are scored against the image’s own bank entry.',
    encode: 'f and g turn each of the 2N views into z; v = z / ‖z‖ is what meets the bank.',
    zRows: <>rows 0…N−1 are t(x<sub>b</sub>), rows N…2N−1 t′(x<sub>b</sub>); v is each row divided by its norm</>,
    matrix:
      'Every view against every bank entry is 2N × n; shown are the columns of this batch’s own images, where the positives lie on two stacked diagonals. ' +
      'Entries never written are still their random start (faded and hatched).',
    loss: 'An n-way classification over the whole training set: each image is its own class, and its bank entry the class’s only example.',
    update:
      'The bank is not trained by the gradient, only f and g. L after is measured against the bank as the step left it, with these images’ entries just moved towards their features: part of the change is that write, not the gradient.',
    afterUpdate: (r) =>
      `Each of the batch’s ${r.n} images had its bank entry moved towards the mean of its two views’ features, with bank momentum m = ${r.settings.bankMomentum}, then renormalized. ` +
      'The other entries were left as they were: made by an older encoder (their staleness), or still random.',
  },
  byol: {
    viewNames: <>v, v′</>,
    views: 'v = t(x) and v′ = t′(x) each go through both the online and the target network: the loss is symmetrized.',
    encode:
      'The online network (f, g) gives z for both views and the predictor q gives p = q(z); the target network (f_ξ, g_ξ), a moving average of the online one, gives z′. ' +
      'Shown: the online z; p and z′ meet in the next line.',
    zRows: <>the online z: rows 0…N−1 from v = t(x<sub>b</sub>), rows N…2N−1 from v′ = t′(x<sub>b</sub>)</>,
    matrix:
      'Each first view’s prediction p₁ against the targets z′₂ of the batch’s second views. Only the diagonal enters the loss (and its mirror, p₂ against z′₁): there are no negatives, nothing pushes the rest apart.',
    loss: '2 − 2 cos is the squared distance of the unit vectors p̂ and ẑ′: 0 when every prediction points at its target, 2 at right angles, 4 when opposite.',
    update: 'Only the online network (f, g and the predictor q) gets the gradient; the target gets none. L after is measured against the target after its moving-average step.',
    afterUpdate: (r) =>
      r.settings.emaTarget
        ? `The target moved a share 1 − m = ${num(1 - r.settings.momentum, 3)} of the way towards the online network: it trails it, changing slowly, which keeps the targets consistent from step to step.`
        : 'This run has the moving average off (target = online): there is no target network to update, and its drift reads 0.',
  },
  simsiam: {
    viewNames: <>x₁, x₂</>,
    views: 'x₁ = t(x), x₂ = t′(x); both go through the one network.',
    encode: 'One network: z = g(f(x)) for both views, and the predictor q gives p = q(z). Shown: z; each half, detached, is the target of the other half’s prediction.',
    zRows: <>rows 0…N−1 are z₁ from x₁ = t(x<sub>b</sub>), rows N…2N−1 z₂ from x₂ = t′(x<sub>b</sub>)</>,
    matrix:
      'Each first view’s prediction p₁ against the (detached) z₂ of the batch’s second views. D reads only the diagonal, the same image’s pair: no negatives, and the stop-gradient makes z₂ a constant target.',
    loss: '−1 when every prediction points the same way as its target, 0 at right angles, 1 when opposite.',
    update: 'f, g and q move through the prediction branch; the stop-gradient passes nothing through the target branch. L after is measured on the same views with the updated network.',
    afterUpdate: () =>
      'Nothing: SimSiam keeps no state besides the weights the update just changed (no moving-average network, no queue, no bank). The next step starts from exactly this network.',
  },
  'barlow-twins': {
    viewNames: <>y<sub>A</sub>, y<sub>B</sub></>,
    views: 'y_A = t(x), y_B = t′(x).',
    encode: 'f and g turn each view into z: z_A for the first views, z_B for the second.',
    zRows: <>rows 0…N−1 are z<sub>A</sub> from y<sub>A</sub> = t(x<sub>b</sub>), rows N…2N−1 z<sub>B</sub> from y<sub>B</sub> = t′(x<sub>b</sub>)</>,
    matrix:
      'Each feature is standardized over the batch (mean 0, variance 1 across the N images), then C = ẑ_Aᵀẑ_B / N: entry (i, j) correlates feature i of the first views with feature j of the second. The target is the identity.',
    loss: 'The first term (invariance) is 0 when every feature agrees across the two views; the second (redundancy reduction, weighted by λ) is 0 when different features are decorrelated.',
    update: 'f and g move; the standardization and λ have no weights. L after is measured on the same views with the updated network.',
    afterUpdate: () =>
      'Nothing: Barlow Twins keeps no state besides the weights the update just changed (no moving-average network, no queue, no bank). The next step starts from exactly this network.',
  },
};

/** A line of pseudocode with its subscripts. */
function Code({ pieces }: { pieces: Piece[] }) {
  return <>{pieces.map((p, k) => (typeof p === 'string' ? p : <sub key={k}><Code pieces={p.sub} /></sub>))}</>;
}

/** Prose with the pseudocode's subscripts (x_q, f_ξ, l_{pos}). */
function Prose({ text }: { text: string }) {
  return <Code pieces={typeset(text)} />;
}

/** The run's collapse switches that are off, in the catalog's words. */
function SwitchesOff({ entry, r }: { entry: MethodEntry; r: MethodResult }) {
  const off = (entry.collapseSwitches ?? []).filter((s) => !r.settings[s.setting]);
  if (off.length === 0) return null;
  return <>{off.map((s) => <p key={s.setting} className="st-note st-warning">This run has a collapse switch off. {s.explanation}</p>)}</>;
}

function MetricFacts({ id, stage, r }: { id: WalkthroughMethodId; stage: WalkthroughStage; r: MethodResult }) {
  return (
    <>
      {stageMetrics(id, stage).map((spec) => {
        const value = r.metrics.values[spec.key];
        return (
          <Fact key={spec.key} label={<span title={spec.help}>{spec.label}</span>} testId={`stepthrough-metric-${spec.key}`} value={value}>
            {metricText(spec.unit, value)}
          </Fact>
        );
      })}
    </>
  );
}

function LossFacts({ id, r }: { id: WalkthroughMethodId; r: MethodResult }) {
  const entry = METHOD_CATALOG[id];
  const reference = lossReference(id, { batchSize: r.n, queueSize: r.settings.queueSize, projectionDim: r.zDim }, r.trainCount);
  return (
    <>
      <p className="st-note"><strong>{entry.lossName}</strong>: {entry.lossHelp}. <Prose text={WORDS[id].loss} /></p>
      <div className="st-facts">
        <Fact label={<>L, {entry.lossName}, before the update</>} testId="stepthrough-loss-before" value={r.lossBefore}>{num(r.lossBefore, 4)}</Fact>
        {reference && <Fact label={<>reference: {reference.label.replace(/ = .*$/, '')}</>}>{num(reference.value, 4)}</Fact>}
        <MetricFacts id={id} stage="loss" r={r} />
      </div>
      <p className="st-note">These are the numbers the gradient was taken of: the step’s loss on the loss chart is this L.</p>
    </>
  );
}

function UpdateFacts({ id, r }: { id: WalkthroughMethodId; r: MethodResult }) {
  const delta = r.lossAfter - r.lossBefore;
  return (
    <>
      <p className="st-note">
        One Adam step of the run&apos;s own optimizer at learning rate {r.learningRate} along −∇L (‖∇L‖ = {num(r.gradientNorm, 4)} over every
        trained weight). It was really applied: this was <strong>step {r.step}</strong> of the run, and the step counter and loss chart include it.
        Then L was measured again on the same {2 * r.n} views.
      </p>
      <LossBeforeAfter lossBefore={r.lossBefore} lossAfter={r.lossAfter} />
      <p className="st-note"><Prose text={WORDS[id].update} /></p>
      <p className="st-note">
        {delta < 0
          ? 'The loss on this batch went down.'
          : 'The loss on this batch did not go down (a learning rate this high, Adam’s moments from earlier steps, or what the method changed after the update can do that).'}{' '}
        A lower L on the batch it was taken on does not yet mean a better encoder; that is what the training curve and the probes show.
      </p>
    </>
  );
}

function AfterUpdate({ id, r }: { id: WalkthroughMethodId; r: MethodResult }) {
  const specs = stageMetrics(id, 'after-update');
  const slots = r.ownMatrix && id === 'moco' ? r.ownMatrix.columnsTotal - 1 : null;
  const fill = r.metrics.values.queueFill;
  const written = r.metrics.values.bankWritten;
  return (
    <div data-testid="stepthrough-after-update" data-method={id} data-state={specs.length > 0 ? 'updated' : 'none'}>
      <p className="st-note"><Prose text={WORDS[id].afterUpdate(r)} /></p>
      {specs.length > 0 && (
        <div className="st-facts">
          {slots !== null && fill !== undefined && (
            <Fact label="queue slots holding real keys">{Math.round(fill * slots)} of K = {slots}</Fact>
          )}
          {id === 'memory-bank' && written !== undefined && (
            <Fact label="bank entries written at least once">{Math.round(written * r.trainCount)} of n = {r.trainCount}</Fact>
          )}
          <MetricFacts id={id} stage="after-update" r={r} />
        </div>
      )}
      {specs.map((spec) => <p key={spec.key} className="st-note"><strong>{spec.label}</strong>: {spec.help}.</p>)}
    </div>
  );
}

/** The numbers of one stop of another method's walkthrough. */
function StageDetail({ id, stage, r, classNames }: { id: WalkthroughMethodId; stage: WalkthroughStage; r: MethodResult; classNames: string[] }) {
  const entry = METHOD_CATALOG[id];
  const words = WORDS[id];
  switch (stage) {
    case 'batch':
      return (
        <>
          <p className="st-explain">N training images drawn at random from the active dataset.</p>
          <Thumbs r={r} classNames={classNames} />
        </>
      );
    case 'views':
      return (
        <>
          <p className="st-explain">
            Every image goes through two independent random augmentations from the pipeline in the Augmentations panel: the same code a training
            step runs. <Prose text={words.views} />
          </p>
          <Views r={r} />
        </>
      );
    case 'encode':
      return (
        <>
          <p className="st-explain"><Prose text={words.encode} /></p>
          <SwitchesOff entry={entry} r={r} />
          {r.h ? (
            <VectorTable values={r.h} dim={r.hDim} n={r.n} symbol="h" caption="h = f(x̃)" />
          ) : (
            <p className="st-note">h = f(x̃), the representation the probes read, is computed inside the step; {entry.label}&apos;s step hands out its z, shown here.</p>
          )}
          <VectorTable values={r.z} dim={r.zDim} n={r.n} symbol="z" caption={words.zRows} />
        </>
      );
    case 'matrix':
      return (
        <>
          <p className="st-explain"><Prose text={words.matrix} /></p>
          <div className="st-method-matrix">
            {/* its own test ids (stepthrough-matrix, stepthrough-matrix-canvas, …) keep the live panel's method-matrix-* unique */}
            <MethodMatrixPanel snapshot={r.ownMatrix} method={entry} ids="stepthrough-matrix" />
          </div>
        </>
      );
    case 'loss':
      return <LossFacts id={id} r={r} />;
    case 'update':
      return <UpdateFacts id={id} r={r} />;
    case 'after-update':
      return (
        <>
          <AfterUpdate id={id} r={r} />
          <p className="st-note">New minibatch draws another batch and runs another step; Train carries on training from here.</p>
        </>
      );
  }
}

/** The row-order note above another method's listing. */
export function MethodConvention({ id, r }: { id: WalkthroughMethodId; r: MethodResult | null }) {
  return (
    <p className="st-convention">
      Row order: the views are concatenated and counted from 0, rows 0…N−1 are t(x<sub>b</sub>) and rows N…2N−1 t′(x<sub>b</sub>)
      {r ? ` (here N = ${r.n}, 2N = ${2 * r.n})` : ''}; the paper&apos;s {WORDS[id].viewNames} are these two halves.
    </p>
  );
}

/**
 * Another method's Algorithm 1 (its catalog `algorithm`), with the current
 * stop's lines highlighted and that stop's numbers under its last line.
 */
export function MethodWalkthrough(
  { id, result, line, goTo, classNames }: { id: WalkthroughMethodId; result: MethodResult | null; line: number; goTo: (line: number) => void; classNames: string[] },
) {
  const entry = METHOD_CATALOG[id];
  const stages = methodStages(id);
  const r = result && result.method === id ? result : null;
  return (
    <ol className="st-listing" aria-label={`${entry.label}: Algorithm 1`} data-testid="stepthrough-algorithm" data-method={id}>
      {methodListing(id).map((l, k) => {
        const current = r !== null && l.stop === line;
        const done = r !== null && l.stop >= 0 && l.stop < line;
        const detail = current && l.showsDetail;
        return (
          <li
            key={k}
            className={`st-line st-indent-${l.indent}${l.stop < 0 ? ' st-line-plain' : ''}${current ? ' st-current' : ''}${done ? ' st-done' : ''}`}
            data-testid={detail ? 'stepthrough-line' : undefined}
            data-value={detail ? line : undefined}
            data-stage={l.stage}
            aria-current={detail ? 'step' : undefined}
            onClick={l.stop >= 0 ? () => goTo(l.stop) : undefined}
          >
            <code className="st-code">
              <Code pieces={typeset(l.line)} />
              {l.note && <span className="st-comment">&ensp;# <Code pieces={typeset(l.note)} /></span>}
            </code>
            {detail && r && (
              <div className="st-detail">
                <StageDetail id={id} stage={stages[line]} r={r} classNames={classNames} />
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
