import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import { describeOperator } from '../core/pipeline';
import type { SimclrWalkthrough, WalkthroughResult } from '../train/protocol';
import { fixed } from './format';
import { colourDomain, renderHeatmapPixels } from './heatmap';
import { ViewCanvas } from './ViewCanvas';

/** Columns of h and z shown; the rest are summarized by the row's norm. */
const SHOWN_DIMS = 8;

/** "0.12" / "−0.12" with a true minus sign. */
export function num(x: number, digits = 2): string {
  const text = fixed(x, digits);
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

/** Row i of the 2N views in this repo's order: t(x_i) for i < N, t′(x_{i−N}) after. */
export function ViewName({ i, n }: { i: number; n: number }) {
  return i < n ? <>t(x<sub>{i}</sub>)</> : <>t′(x<sub>{i - n}</sub>)</>;
}

function className(r: WalkthroughResult, k: number, classNames: string[]): string {
  const label = r.labels[k];
  return label >= 0 && label < classNames.length ? classNames[label] : `#${r.indices[k]}`;
}

export function Thumbs({ r, classNames }: { r: WalkthroughResult; classNames: string[] }) {
  const per = r.sourceSize * r.sourceSize * r.channels;
  return (
    <div className="st-thumbs">
      {r.indices.map((index, k) => (
        <figure key={k} className="st-thumb">
          <ViewCanvas
            pixels={r.originals.subarray(k * per, (k + 1) * per)} size={r.sourceSize} channels={r.channels}
            role="original" label={`x${k}: training image ${index}, ${className(r, k, classNames)}`}
          />
          <figcaption>x<sub>{k}</sub> · {className(r, k, classNames)}</figcaption>
        </figure>
      ))}
    </div>
  );
}

export function Views({ r }: { r: WalkthroughResult }) {
  const per = r.viewSize * r.viewSize * r.channels;
  const originalPer = r.sourceSize * r.sourceSize * r.channels;
  const view = (i: number) => (
    <figure key={i} className="st-thumb">
      <ViewCanvas pixels={r.views.subarray(i * per, (i + 1) * per)} size={r.viewSize} channels={r.channels} role="view" label={`row ${i}`} />
      <figcaption>{i} · <ViewName i={i} n={r.n} /></figcaption>
    </figure>
  );
  return (
    <>
      <p className="st-note">
        T here: {r.operators.length > 0 ? r.operators.map((k) => describeOperator(k).title.toLowerCase()).join(', ') : 'no operator (t is the identity)'}.
        Each image gets its own random t and t′.
      </p>
      <div className="st-views">
        {r.indices.map((_, k) => (
          <div key={k} className="st-view-column">
            <figure className="st-thumb st-thumb-original">
              <ViewCanvas pixels={r.originals.subarray(k * originalPer, (k + 1) * originalPer)} size={r.sourceSize} channels={r.channels} role="original" label={`x${k}`} />
              <figcaption>x<sub>{k}</sub></figcaption>
            </figure>
            {view(k)}
            {view(k + r.n)}
          </div>
        ))}
      </div>
    </>
  );
}

/** 2N rows of a 2N × dim matrix, the first SHOWN_DIMS columns and the row norm; `caption` says what the rows are. */
export function VectorTable(
  { values, dim, n, symbol, caption }: { values: Float32Array; dim: number; n: number; symbol: string; caption?: ReactNode },
) {
  const shown = Math.min(dim, SHOWN_DIMS);
  const rows = Array.from({ length: 2 * n }, (_, i) => {
    const row = values.subarray(i * dim, (i + 1) * dim);
    let squared = 0;
    for (const v of row) squared += v * v;
    return { i, row, norm: Math.sqrt(squared) };
  });
  return (
    <div className="st-table-wrap">
      <table className="st-table">
        <caption>
          {symbol}: {2 * n} × {dim}{dim > shown ? `, first ${shown} dimensions shown` : ''}{caption && <>; {caption}</>}
        </caption>
        <thead>
          <tr>
            <th scope="col">row</th>
            {Array.from({ length: shown }, (_, d) => <th key={d} scope="col">{d}</th>)}
            {dim > shown && <th scope="col" aria-label={`${dim - shown} more dimensions`}>…</th>}
            <th scope="col">‖{symbol}<sub>i</sub>‖</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ i, row, norm }) => (
            <tr key={i} className={i === n ? 'st-row-second' : undefined}>
              <th scope="row">{i} · <ViewName i={i} n={n} /></th>
              {Array.from(row.subarray(0, shown), (v, d) => <td key={d}>{num(v)}</td>)}
              {dim > shown && <td className="st-more">…</td>}
              <td className="st-norm">{num(norm)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SimilarityCanvas({ s, twoN, normalized }: { s: Float32Array; twoN: number; normalized: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const { lo, hi } = useMemo(() => colourDomain(s, twoN, normalized), [s, twoN, normalized]);
  const pixels = useMemo(() => renderHeatmapPixels(s, twoN, twoN, lo, hi), [s, twoN, lo, hi]);
  useEffect(() => {
    ref.current?.getContext('2d')?.putImageData(new ImageData(pixels.data, pixels.width, pixels.width), 0, 0);
  }, [pixels]);
  const range = normalized ? 'cosine from −1 (dark) to 1 (bright)' : `dot product from −${num(hi)} (dark) to ${num(hi)} (bright)`;
  return (
    <figure className="st-heatmap-figure">
      <canvas
        ref={ref} className="st-heatmap" width={pixels.width} height={pixels.width} role="img"
        aria-label={`The ${twoN}×${twoN} similarity matrix as colours, ${range}; positives outlined, diagonal gray`}
      />
      <figcaption>Colour: {range}. Positives outlined; the masked diagonal is gray.</figcaption>
    </figure>
  );
}

function Similarities({ r }: { r: SimclrWalkthrough }) {
  const twoN = 2 * r.n;
  return (
    <div className="st-similarity">
      <SimilarityCanvas s={r.s} twoN={twoN} normalized={r.normalized} />
      <div className="st-table-wrap">
        <table className="st-table st-matrix">
          <caption>
            s<sub>ij</sub>, {twoN} × {twoN}{r.normalized ? '' : ' (normalization is off in this run: s_ij = z_iᵀz_j)'}; positives (j = i ± N)
            boxed, the diagonal grayed
          </caption>
          <thead>
            <tr><th scope="col">i \ j</th>{Array.from({ length: twoN }, (_, j) => <th key={j} scope="col">{j}</th>)}</tr>
          </thead>
          <tbody>
            {Array.from({ length: twoN }, (_, i) => (
              <tr key={i} className={i === r.n ? 'st-row-second' : undefined}>
                <th scope="row">{i}</th>
                {Array.from({ length: twoN }, (_, j) => (
                  <td key={j} className={i === j ? 'st-diagonal' : j === (i + r.n) % twoN ? 'st-positive' : undefined}>
                    {num(r.s[i * twoN + j])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function AnchorLosses({ r }: { r: SimclrWalkthrough }) {
  const twoN = 2 * r.n;
  return (
    <div className="st-table-wrap">
      <table className="st-table">
        <caption>
          ℓ(i, positive(i)) for each of the {twoN} anchors at τ = {r.temperature}: the positive&apos;s logit against all {twoN - 1} candidates
        </caption>
        <thead>
          <tr>
            <th scope="col">anchor i</th>
            <th scope="col">positive j</th>
            <th scope="col">s<sub>ij</sub></th>
            <th scope="col">s<sub>ij</sub>/τ</th>
            <th scope="col">log Σ<sub>k≠i</sub> exp(s<sub>ik</sub>/τ)</th>
            <th scope="col">ℓ(i, j)</th>
            <th scope="col">top match</th>
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: twoN }, (_, i) => {
            const j = (i + r.n) % twoN;
            let best = -1;
            for (let k = 0; k < twoN; k++) if (k !== i && (best < 0 || r.s[i * twoN + k] > r.s[i * twoN + best])) best = k;
            const sij = r.s[i * twoN + j];
            return (
              <tr key={i} className={i === r.n ? 'st-row-second' : undefined}>
                <th scope="row">{i} · <ViewName i={i} n={r.n} /></th>
                <td className="st-positive">{j} · <ViewName i={j} n={r.n} /></td>
                <td>{num(sij, 3)}</td>
                <td>{num(sij / r.temperature, 3)}</td>
                <td>{num(r.logDenominator[i], 3)}</td>
                <td className="st-strong">{num(r.anchorLoss[i], 3)}</td>
                <td>{best === j ? '✓ positive' : `✗ ${best}`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Fact({ label, children, testId, value }: { label: ReactNode; children: ReactNode; testId?: string; value?: number }) {
  return (
    <div className="st-fact" data-testid={testId} data-value={value === undefined ? undefined : String(value)}>
      <span className="st-fact-label">{label}</span>
      <span className="st-fact-value">{children}</span>
    </div>
  );
}

function Loss({ r }: { r: SimclrWalkthrough }) {
  const twoN = 2 * r.n;
  let sum = 0;
  for (const l of r.anchorLoss) sum += l;
  return (
    <>
      <p className="st-note">
        Written with this repo&apos;s rows, the sum over the pairs (2k−1, 2k) is the sum over every anchor i of ℓ(i, i ± N): the same {twoN} terms in
        another order.
      </p>
      <div className="st-facts">
        <Fact label={<>Σ<sub>i</sub> ℓ(i, i ± N)</>}>{num(sum, 3)}</Fact>
        <Fact label={<>L = Σ / 2N = Σ / {twoN}</>}>{num(r.lossBefore, 4)}</Fact>
        <Fact label={<>chance: log(2N − 1)</>}>{num(Math.log(twoN - 1), 4)}</Fact>
        <Fact label="anchors whose top match is the positive">{Math.round((r.metrics.values.contrastiveAccuracy ?? 0) * twoN)} of {twoN}</Fact>
      </div>
    </>
  );
}

/** L before and after the walkthrough's one update, on the same views, and the change. */
export function LossBeforeAfter({ lossBefore, lossAfter }: { lossBefore: number; lossAfter: number }) {
  const delta = lossAfter - lossBefore;
  return (
    <div className="st-facts st-facts-large">
      <Fact label="L before the update" testId="stepthrough-loss-before" value={lossBefore}>{num(lossBefore, 4)}</Fact>
      <Fact label="L after, same batch and views" testId="stepthrough-loss-after" value={lossAfter}>{num(lossAfter, 4)}</Fact>
      <Fact label="change">{delta <= 0 ? '' : '+'}{num(delta, 4)}</Fact>
    </div>
  );
}

function Update({ r }: { r: SimclrWalkthrough }) {
  const delta = r.lossAfter - r.lossBefore;
  return (
    <>
      <p className="st-note">
        One Adam step of the run&apos;s own optimizer at learning rate {r.learningRate} along −∇L (‖∇L‖ = {num(r.gradientNorm, 4)} over every
        weight of f and g). It was really applied: this was <strong>step {r.step}</strong> of the run, and the step counter and loss chart include it.
        Then L was measured again on the same {2 * r.n} views.
      </p>
      <LossBeforeAfter lossBefore={r.lossBefore} lossAfter={r.lossAfter} />
      <p className="st-note">
        {delta < 0
          ? 'The loss on this batch went down: the step moved f and g towards telling these views apart.'
          : 'The loss on this batch did not go down: the step overshot (a learning rate this high, or Adam’s moments from earlier steps, can do that).'}{' '}
        A lower L on the batch it was taken on does not yet mean a better encoder; that is what the training curve and the probe show.
      </p>
    </>
  );
}

/** The tensors of one stop of SimCLR's walkthrough, as small plain-number tables, thumbnails and the s heatmap. */
export function StepThroughTensors({ line, r, classNames }: { line: number; r: SimclrWalkthrough; classNames: string[] }) {
  switch (line) {
    case 0:
      return <Thumbs r={r} classNames={classNames} />;
    case 1:
      return <Views r={r} />;
    case 2:
      return <VectorTable values={r.h} dim={r.hDim} n={r.n} symbol="h" />;
    case 3:
      return <VectorTable values={r.z} dim={r.zDim} n={r.n} symbol="z" />;
    case 4:
      return <Similarities r={r} />;
    case 5:
      return <AnchorLosses r={r} />;
    case 6:
      return <Loss r={r} />;
    default:
      return <Update r={r} />;
  }
}
