import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { fixed } from './format';
import {
  blockOf,
  blockStart,
  cellAt,
  cellPixels,
  colourDomain,
  colourBarGradient,
  positiveBlocks,
  positiveIndex,
  renderHeatmapPixels,
  rowSoftmax,
} from './heatmap';
import { ViewCanvas } from './ViewCanvas';
import './heatmap.css';

export interface AffinityHeatmapProps {
  /** row-major (2N)×(2N) similarity matrix s_ij (cosine if normalized), possibly downsampled: size × size */
  matrix: Float32Array;
  /** side of `matrix` */
  size: number;
  /** 2N of the batch it came from; size < twoN means each cell averages a block of (twoN/size)² entries */
  twoN: number;
  temperature: number;
  normalized: boolean;
  step: number;
  /** optional thumbnails of the 2N views (row i of the matrix ↔ view i): count × viewSize² × channels HWC float [0,1]; may be absent or shorter than 2N */
  views?: Float32Array;
  viewSize?: number;
  channels?: 1 | 3;
}

interface Cell {
  i: number;
  j: number;
}

const THUMB_SCALE = 2;

/** "−0.5" with a true minus sign, three significant digits. */
function tick(v: number): string {
  const text = String(Number(v.toPrecision(3)));
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

/** Which view index v is, in words: first or second view of an image. */
function viewName(v: number, n: number): string {
  return v < n ? `view ${v}: t(x) of image ${v}` : `view ${v}: t′(x) of image ${v - n}`;
}

/** Why the matrix cannot be drawn, or null when it can. */
function invalidReason(matrix: Float32Array, size: number, twoN: number): string | null {
  if (!Number.isInteger(twoN) || twoN < 2 || twoN % 2 !== 0) return `The batch has 2N = ${twoN} views; it must be an even number ≥ 2.`;
  if (!Number.isInteger(size) || size < 1 || size > twoN) return `The matrix side is ${size}; it must be between 1 and 2N = ${twoN}.`;
  if (matrix.length < size * size) return `The matrix holds ${matrix.length} values; a ${size}×${size} matrix needs ${size * size}.`;
  return null;
}

/**
 * The live 2N×2N affinity matrix of the current batch: one canvas pixel-exact
 * cell per entry (or per block when downsampled), with its axes, colour bar,
 * legend and an inspector for the hovered or keyboard-focused cell outside
 * the canvas.
 */
export function AffinityHeatmap(props: AffinityHeatmapProps) {
  const { matrix, size, twoN, step } = props;
  const invalid = invalidReason(matrix, size, twoN);
  return (
    <figure className="panel affinity" data-testid="affinity-panel">
      <figcaption>
        <div className="affinity-head">
          <h2>Affinity matrix s<sub>ij</sub></h2>
          <span className="affinity-step" data-testid="affinity-step" data-value={step}>step {step}</span>
        </div>
        <p>
          Each cell is how similar two views of this batch are: row i is the anchor, column j a candidate, and the first
          N rows are one augmentation of each image, the last N the other, so every view&apos;s partner sits N places
          away. Once the encoder has learned, two bright diagonals stand out on a dark background; bright squares off
          them are groups of images it finds alike.
        </p>
      </figcaption>
      {invalid ? (
        <p className="affinity-invalid">Cannot draw this matrix. {invalid}</p>
      ) : (
        <HeatmapBody {...props} />
      )}
    </figure>
  );
}

function HeatmapBody({ matrix, size, twoN, temperature, normalized, step, views, viewSize, channels }: AffinityHeatmapProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const hovering = useRef(false);
  const focused = useRef(false);
  const [cell, setCell] = useState<Cell | null>(null);
  const inspectorId = useId();
  const n = twoN / 2;
  const downsampled = size < twoN;
  const k = cellPixels(size);
  const { lo, hi } = useMemo(() => colourDomain(matrix, size, normalized), [matrix, size, normalized]);
  const positive = useMemo(() => positiveBlocks(size, twoN), [size, twoN]);

  useEffect(() => {
    const ctx = canvasRef.current?.getContext('2d');
    if (!ctx) return;
    const { data, width } = renderHeatmapPixels(matrix, size, twoN, lo, hi);
    ctx.putImageData(new ImageData(data, width, width), 0, 0);
  }, [matrix, size, twoN, lo, hi]);

  const move = (next: Cell | null) =>
    setCell((current) => (current?.i === next?.i && current?.j === next?.j ? current : next));

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    hovering.current = true;
    move(cellAt(e.clientX - rect.left, e.clientY - rect.top, rect.width, size));
  };
  const onPointerLeave = () => {
    hovering.current = false;
    if (!focused.current) move(null);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const at = cell ?? { i: 0, j: 0 };
    const clamp = (v: number) => Math.max(0, Math.min(size - 1, v));
    const jump = e.shiftKey ? Math.max(1, Math.round(size / 8)) : 1;
    let next: Cell | null = null;
    if (e.key === 'ArrowUp') next = { i: clamp(at.i - jump), j: at.j };
    else if (e.key === 'ArrowDown') next = { i: clamp(at.i + jump), j: at.j };
    else if (e.key === 'ArrowLeft') next = { i: at.i, j: clamp(at.j - jump) };
    else if (e.key === 'ArrowRight') next = { i: at.i, j: clamp(at.j + jump) };
    else if (e.key === 'Home') next = { i: at.i, j: 0 };
    else if (e.key === 'End') next = { i: at.i, j: size - 1 };
    else if (e.key === 'p' || e.key === 'P') next = { i: at.i, j: positiveColumn(at.i, twoN, size) };
    if (!next) return;
    e.preventDefault();
    move(next);
  };

  const gradient = useMemo(() => colourBarGradient(lo, hi), [lo, hi]);

  const active = cell && cell.i < size && cell.j < size ? cell : null;
  const pct = (v: number) => `${(v / size) * 100}%`;
  const partner = active ? positiveColumn(active.i, twoN, size) : -1;
  const block = twoN / size;

  return (
    <>
      <div className="affinity-body">
        <div className="affinity-plot">
          <div className="affinity-axis affinity-axis-top" aria-hidden="true">
            <span>t(x): views 0…{n - 1}</span>
            <span>t′(x): views {n}…{twoN - 1}</span>
          </div>
          <div className="affinity-axis affinity-axis-left" aria-hidden="true">
            <span>t(x): 0…{n - 1}</span>
            <span>t′(x): {n}…{twoN - 1}</span>
          </div>
          <div className="affinity-canvas-wrap">
            <canvas
              ref={canvasRef}
              data-testid="affinity-heatmap"
              className="affinity-canvas"
              width={size * k}
              height={size * k}
              data-size={size}
              data-two-n={twoN}
              data-cell-px={k}
              data-lo={lo}
              data-hi={hi}
              data-step={step}
              tabIndex={0}
              role="img"
              aria-label={`Affinity matrix of the ${twoN} views at step ${step}. Arrow keys move between cells (Shift for bigger jumps), P jumps to the anchor's positive; the cell's details appear beside the heatmap.`}
              aria-describedby={inspectorId}
              onPointerMove={onPointerMove}
              onPointerLeave={onPointerLeave}
              onKeyDown={onKeyDown}
              onFocus={() => {
                focused.current = true;
                if (!cell) move({ i: 0, j: positiveColumn(0, twoN, size) });
              }}
              onBlur={() => {
                focused.current = false;
                if (!hovering.current) move(null);
              }}
            />
            {active && (
              <>
                {partner !== active.j && (
                  <div
                    className="affinity-mark affinity-mark-positive"
                    style={{ left: pct(partner), top: pct(active.i), width: pct(1), height: pct(1) }}
                    aria-hidden="true"
                  />
                )}
                <div
                  className="affinity-mark affinity-mark-hover"
                  style={{ left: pct(active.j), top: pct(active.i), width: pct(1), height: pct(1) }}
                  aria-hidden="true"
                />
              </>
            )}
          </div>
        </div>
        <Inspector
          id={inspectorId}
          cell={active}
          matrix={matrix}
          size={size}
          twoN={twoN}
          temperature={temperature}
          isPositive={active ? positive[active.i * size + active.j] === 1 : false}
          views={views}
          viewSize={viewSize}
          channels={channels}
        />
      </div>

      <div className="affinity-colorbar" data-testid="affinity-colorbar" data-lo={lo} data-hi={hi}>
        <div className="affinity-colorbar-bar" style={{ background: gradient }} aria-hidden="true" />
        <div className="affinity-colorbar-ticks">
          {[0, 0.25, 0.5, 0.75, 1].map((t) => (
            <span key={t} style={{ left: `${t * 100}%` }}>{tick(lo + (hi - lo) * t)}</span>
          ))}
        </div>
        <p className="hint">
          {normalized
            ? 'Colour: cosine similarity s_ij on [−1, 1]; brighter is more similar.'
            : `Colour: raw dot product z_i·z_j (normalization is off), on ±${tick(hi)} = the largest |s_ij| off the diagonal this step; brighter is more similar.`}
          {downsampled && ` Each cell averages a ${fixed(block, 0)}×${fixed(block, 0)} block of the ${twoN}×${twoN} matrix.`}
        </p>
      </div>

      <ul className="affinity-legend">
        <li><span className="affinity-swatch affinity-swatch-diagonal" aria-hidden="true" />masked diagonal: a view is never its own candidate</li>
        <li>
          <span className="affinity-swatch affinity-swatch-positive" aria-hidden="true" />
          {downsampled ? 'blocks holding positive pairs' : 'positive pairs, |i − j| = N'}
          {k < 3 && ' (cells too small to outline at this batch size: hover to find them)'}
        </li>
      </ul>
    </>
  );
}

/** The column holding row I's positive: positiveIndex of the block's first view, mapped back to a block. */
function positiveColumn(I: number, twoN: number, size: number): number {
  return blockOf(positiveIndex(blockStart(I, twoN, size), twoN), twoN, size);
}

interface InspectorProps {
  id: string;
  cell: Cell | null;
  matrix: Float32Array;
  size: number;
  twoN: number;
  temperature: number;
  isPositive: boolean;
  views?: Float32Array;
  viewSize?: number;
  channels?: 1 | 3;
}

/** Details of one cell: indices, s_ij, pair kind, the two views and the anchor's softmax over its candidates. */
function Inspector({ id, cell, matrix, size, twoN, temperature, isPositive, views, viewSize, channels }: InspectorProps) {
  const downsampled = size < twoN;
  const n = twoN / 2;
  const validTemperature = temperature > 0 && Number.isFinite(temperature);
  const row = cell?.i ?? -1;
  const softmax = useMemo(
    () => (row >= 0 && !downsampled && validTemperature ? rowSoftmax(matrix, size, row, temperature) : null),
    [matrix, size, row, temperature, downsampled, validTemperature],
  );

  if (!cell) {
    return (
      <aside id={id} className="affinity-inspector" data-testid="affinity-tooltip" aria-live="polite">
        <p className="hint">Hover a cell, or focus the heatmap and use the arrow keys, to see the two views, their similarity and how the anchor row spreads its softmax over the candidates.</p>
      </aside>
    );
  }

  const { i, j } = cell;
  const s = matrix[i * size + j];
  const diagonal = i === j;
  const kind = diagonal ? 'masked' : isPositive ? 'positive' : 'negative';
  const range = (I: number) => {
    const a = blockStart(I, twoN, size);
    const b = blockStart(I + 1, twoN, size) - 1;
    return a === b ? `${a}` : `${a}…${b}`;
  };

  return (
    <aside
      id={id}
      className="affinity-inspector"
      data-testid="affinity-tooltip"
      data-i={i}
      data-j={j}
      data-value={s}
      data-positive={isPositive}
      aria-live="polite"
    >
      <dl className="affinity-facts">
        <div><dt>{downsampled ? 'rows (anchors)' : 'row i (anchor)'}</dt><dd>{downsampled ? range(i) : i}</dd></div>
        <div><dt>{downsampled ? 'columns' : 'column j'}</dt><dd>{downsampled ? range(j) : j}</dd></div>
        <div><dt>{downsampled ? <>block mean s</> : <>s<sub>ij</sub></>}</dt><dd>{s.toPrecision(4)}</dd></div>
      </dl>
      <p className={`affinity-kind affinity-kind-${kind}`}>
        {diagonal
          ? downsampled
            ? 'Diagonal block: it holds the masked self-similarities, so it is drawn gray.'
            : 'Masked: a view is never its own candidate, so s_ii is left out of the loss.'
          : isPositive
            ? downsampled
              ? 'This block holds positive pairs: two views of the same images.'
              : `Positive pair: both are views of image ${i % n}. The loss pulls them together.`
            : downsampled
              ? 'Negative pairs only: views of different images.'
              : `Negative pair: images ${i % n} and ${j % n}. The loss pushes them apart.`}
      </p>

      {!downsampled && views && viewSize && channels && (
        <div className="affinity-thumbs">
          {[i, j].map((v, k) => {
            const per = viewSize * viewSize * channels;
            const available = (v + 1) * per <= views.length;
            return (
              <figure key={k} className="affinity-thumb">
                {available ? (
                  <ViewCanvas
                    pixels={views.subarray(v * per, (v + 1) * per)}
                    size={viewSize}
                    channels={channels}
                    role="view"
                    label={viewName(v, n)}
                    scale={THUMB_SCALE}
                  />
                ) : (
                  <div className="affinity-thumb-missing" style={{ width: viewSize * THUMB_SCALE, height: viewSize * THUMB_SCALE }}>no thumbnail</div>
                )}
                <figcaption>{k === 0 ? 'anchor ' : 'candidate '}{viewName(v, n)}</figcaption>
              </figure>
            );
          })}
        </div>
      )}

      {softmax ? (
        <SoftmaxStrip p={softmax} anchor={i} positive={positiveIndex(i, twoN)} hovered={j} temperature={temperature} />
      ) : (
        <p className="hint">
          {downsampled
            ? `The anchor's softmax needs the full ${twoN}×${twoN} row; this view averages blocks. Use a batch of N ≤ ${Math.floor(size / 2)} to see it.`
            : `No softmax: τ = ${temperature} is not a positive number.`}
        </p>
      )}
    </aside>
  );
}

const STRIP_H = 40;

/** The anchor's p_j = softmax_j(s_ij / τ) over its 2N − 1 candidates as bars, positive in green, hovered column marked. */
function SoftmaxStrip({ p, anchor, positive, hovered, temperature }: { p: Float32Array; anchor: number; positive: number; hovered: number; temperature: number }) {
  const size = p.length;
  let max = 0;
  let rank = 1;
  for (let j = 0; j < size; j++) {
    if (p[j] > max) max = p[j];
    if (j !== positive && p[j] > p[positive]) rank++;
  }
  const pPos = p[positive];
  const y = (v: number) => (max > 0 ? (v / max) * (STRIP_H - 2) : 0);
  return (
    <div className="affinity-softmax" data-testid="affinity-softmax" data-value={pPos} data-anchor={anchor}>
      <p className="affinity-softmax-title">
        Anchor {anchor}&apos;s softmax at τ = {temperature} over its {size - 1} candidates
      </p>
      <svg
        viewBox={`0 0 ${size} ${STRIP_H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Probabilities p_j for anchor ${anchor}; the positive, column ${positive}, gets ${fixed(pPos)}`}
      >
        {hovered !== anchor && <rect className="affinity-softmax-hover" x={hovered} y={0} width={1} height={STRIP_H} />}
        {Array.from(p, (v, j) =>
          j === anchor ? (
            <rect key={j} className="affinity-softmax-self" x={j + 0.1} y={STRIP_H - 3} width={0.8} height={3} />
          ) : (
            <rect
              key={j}
              className={j === positive ? 'affinity-softmax-positive' : 'affinity-softmax-bar'}
              x={j + 0.1}
              y={STRIP_H - y(v)}
              width={0.8}
              height={y(v)}
            />
          ),
        )}
      </svg>
      <p className="affinity-softmax-note">
        <span className="affinity-softmax-key" aria-hidden="true" />
        p(positive, column {positive}) = <strong>{fixed(pPos)}</strong>, rank {rank} of {size - 1}; ℓ<sub>i</sub> = −log p ={' '}
        {fixed(-Math.log(pPos))}. Chance is 1/{size - 1} = {fixed(1 / (size - 1))}.
        {hovered !== anchor && <> Column {hovered}: p = {fixed(p[hovered])}.</>}
        <span className="hint"> Bars scaled to the row&apos;s largest p, {fixed(max)}.</span>
      </p>
    </div>
  );
}
