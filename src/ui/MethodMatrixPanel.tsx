import {
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type CSSProperties,
  type KeyboardEvent,
  type PointerEvent,
  type ReactNode,
} from 'react';
import type { MethodEntry } from '../core/methods';
import type { MethodMatrixSnapshot } from '../train/protocol';
import { colourBarGradient } from './heatmap';
import {
  MATRIX_HI,
  MATRIX_LO,
  describeCell,
  indexRange as range,
  matrixSummary,
  methodCellAt,
  methodCellPixels,
  positiveColumn,
  positiveRank,
  renderMethodMatrixPixels,
  shownNote,
  signed,
  snapshotProblem,
  summaryText,
  summaryValue,
  type MethodMatrixKind,
} from './methodMatrix';
import './heatmap.css';
import './methodMatrix.css';

interface Cell {
  i: number;
  j: number;
}

/** One stretch of an axis: `span` rows or columns labelled `label`. */
interface AxisSegment {
  label: string;
  span: number;
}

/** Everything a kind says about itself: words, axes and legend. */
interface KindText {
  title: string;
  caption: ReactNode;
  waiting: string;
  rows: (s: MethodMatrixSnapshot) => AxisSegment[];
  columns: (s: MethodMatrixSnapshot) => AxisSegment[];
  /** what the axes mean, in a sentence for everyone (the drawn axes are short) */
  axes: (s: MethodMatrixSnapshot) => string;
  positive: string;
  /** what P jumps to */
  jump: string;
  colour: string;
}

const COLOUR_BAR_TICKS = [-1, -0.5, 0, 0.5, 1];
/** The matrix's longer side on screen, in rem; the shorter side follows the rows:cols ratio. */
const LONG_SIDE_REM = 30;

const KINDS: Record<MethodMatrixKind, KindText> = {
  'query-keys': {
    title: 'queries against keys',
    caption: (
      <>
        Each row is a query q̂ = normalize(g(f(t(x)))) of one image. Column 0 is its own key k̂, the other view t′(x)
        through the momentum encoder; the other columns are the queue&apos;s newest keys, made from earlier batches.
        The loss is a (1 + K)-way softmax of these cosines / τ whose answer is column 0, so once trained, column 0 lights
        up against a dark queue.
      </>
    ),
    waiting: 'Press Train or Step: each query’s cosines with its own key and the queue’s newest keys appear here.',
    rows: (s) => [{ label: `queries q̂ ${range(0, s.rows - 1)}`, span: s.rows }],
    columns: (s) =>
      s.cols > 1
        ? [{ label: `column 0: own key k̂ · ${range(1, s.cols - 1)}: queue, newest → older`, span: s.cols }]
        : [{ label: 'column 0: own key k̂', span: 1 }],
    axes: (s) =>
      `Rows: the queries q̂ of images ${range(0, s.rows - 1)}. Columns: 0 is each query’s own key k̂ (the positive)${
        s.cols > 2 ? `, ${range(1, s.cols - 1)} the queue’s keys, newest first` : s.cols === 2 ? ', 1 the queue’s newest key' : ''
      }.`,
    positive: 'outlined: the positive, each query’s own key (column 0)',
    jump: 'P jumps to the query’s own key',
    colour: 'Colour: cosine q̂·k on [−1, 1], before /τ; brighter is more similar.',
  },
  'batch-bank': {
    title: 'the batch against its bank rows',
    caption: (
      <>
        The bank stores one feature per training image. Rows are the 2N views of the batch (first t(x) of each image,
        then t′(x)); columns are those images&apos; rows in the bank, written when each image was last in a batch. Each
        view must pick out its own image&apos;s entry among all n, so the positives lie on two stacked diagonals; entries
        never written yet are still their random start.
      </>
    ),
    waiting: 'Press Train or Step: the batch’s views against their images’ bank rows appear here.',
    rows: (s) => {
      const m = s.rows / 2;
      return [
        { label: `t(x): views ${range(0, m - 1)}`, span: m },
        { label: `t′(x): ${range(m, s.rows - 1)}`, span: m },
      ];
    },
    columns: (s) => [{ label: `bank rows of images ${range(0, s.cols - 1)}`, span: s.cols }],
    axes: (s) => {
      const m = s.rows / 2;
      return `Rows: views ${range(0, m - 1)} are t(x) of images ${range(0, m - 1)}, views ${range(m, s.rows - 1)} their t′(x). Columns: the bank rows of images ${range(0, s.cols - 1)}.`;
    },
    positive: 'outlined: the positives, each view’s own image’s bank row (two stacked diagonals)',
    jump: 'P jumps to the view’s own bank row',
    colour: 'Colour: cosine of a view with a bank row on [−1, 1], before /τ; brighter is more similar.',
  },
  'cross-correlation': {
    title: 'cross-correlation matrix C',
    caption: (
      <>
        C = ẑ1ᵀẑ2 / B: entry (i, j) correlates, over the batch, dimension i of the first views&apos; standardized
        embeddings ẑ1 with dimension j of the second views&apos; ẑ2. The loss pulls the diagonal to 1 (invariance: each
        feature agrees across the two views) and everything else to 0 (redundancy reduction: features carry different
        information); a trained C approaches the identity.
      </>
    ),
    waiting: 'Press Train or Step: the cross-correlation matrix C of the two views’ embeddings appears here.',
    rows: (s) => [{ label: `ẑ1 dimensions ${range(0, s.rows - 1)}`, span: s.rows }],
    columns: (s) => [{ label: `ẑ2 dimensions ${range(0, s.cols - 1)}`, span: s.cols }],
    axes: (s) => `Rows: dimensions ${range(0, s.rows - 1)} of ẑ1. Columns: dimensions ${range(0, s.cols - 1)} of ẑ2.`,
    positive: 'outlined: the diagonal, target 1 (every other cell: target 0)',
    jump: 'P jumps to the diagonal',
    colour: 'Colour: correlation C_ij on [−1, 1]; brighter is more correlated.',
  },
  'prediction-target': {
    title: 'predictions against targets',
    caption: (
      <>
        Each row is the prediction p of one image&apos;s first view t(x); each column the target z′ of an image&apos;s
        second view t′(x), which no gradient reaches. The loss reads only the diagonal, raising cos(p_b, z′_b): with no
        negatives, nothing pushes the rest down. A healthy run keeps a bright diagonal over a mixed background; a
        collapsed one turns every cell to 1.
      </>
    ),
    waiting: 'Press Train or Step: each prediction’s cosines with the batch’s targets appear here.',
    rows: (s) => [{ label: `predictions p of t(x), images ${range(0, s.rows - 1)}`, span: s.rows }],
    columns: (s) => [{ label: `targets z′ of t′(x), images ${range(0, s.cols - 1)}`, span: s.cols }],
    axes: (s) =>
      `Rows: the predictions p from t(x) of images ${range(0, s.rows - 1)}. Columns: the targets z′ from t′(x) of images ${range(0, s.cols - 1)}.`,
    positive: 'outlined: the diagonal, each prediction against its own image’s target (the only cells the loss reads)',
    jump: 'P jumps to the diagonal',
    colour: 'Colour: cosine of a prediction with a target on [−1, 1]; brighter is more similar.',
  },
};

function isMatrixKind(kind: string): kind is MethodMatrixKind {
  return kind in KINDS;
}

/**
 * A method's own matrix (MoCo's queries against keys, the memory bank's views
 * against bank rows, Barlow Twins' C, BYOL's and SimSiam's predictions against
 * targets) as a heatmap with axes, colour bar, legend, a summary line and an
 * inspector of the hovered or keyboard-focused cell.
 */
/**
 * `ids` prefixes every data-testid: `method-matrix` for the live panel (UI
 * contract), another for a second copy on the page (the walkthrough's).
 */
export function MethodMatrixPanel({ snapshot, method, ids = 'method-matrix' }: { snapshot: MethodMatrixSnapshot | null; method: MethodEntry; ids?: string }) {
  // a snapshot of the method the run used before a switch is not this method's matrix
  const current = snapshot && snapshot.method === method.id ? snapshot : null;
  const kind = current?.kind ?? method.matrix;
  const text = isMatrixKind(kind) ? KINDS[kind] : null;
  const problem = current
    ? (snapshotProblem(current) ?? (current.kind !== method.matrix ? `It is a ${current.kind} matrix, but ${method.label} draws a ${method.matrix} one; the next step sends the right one.` : null))
    : null;
  const shown = current && !problem ? shownNote(current) : null;

  return (
    <figure className="panel affinity method-matrix" data-testid={`${ids}`} data-kind={kind}>
      <figcaption>
        <div className="affinity-head">
          <h2>{method.label}: {text?.title ?? 'no matrix of its own'}</h2>
          {current && (
            <span className="affinity-step" data-testid={`${ids}-step`} data-value={current.step}>step {current.step}</span>
          )}
        </div>
        <p>{text?.caption ?? method.matrixNote ?? `${method.label} does not score a matrix of its own.`}</p>
        {shown && <p className="method-matrix-shown" data-testid={`${ids}-shown`}>{shown}</p>}
      </figcaption>
      {!current ? (
        text && (
          <p className="hint method-matrix-waiting" data-testid={`${ids}-waiting`}>{text.waiting}</p>
        )
      ) : problem || !text ? (
        <p className="affinity-invalid" data-testid={`${ids}-invalid`} role="alert">
          Cannot draw this matrix. {problem ?? `Unknown matrix kind ${kind}.`}
        </p>
      ) : (
        <MatrixBody snapshot={current} text={text} label={method.label} ids={ids} />
      )}
    </figure>
  );
}

function MatrixBody({ snapshot, text, label, ids }: { snapshot: MethodMatrixSnapshot; text: KindText; label: string; ids: string }) {
  const { kind, rows, cols, step } = snapshot;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const hovering = useRef(false);
  const focused = useRef(false);
  const [cell, setCell] = useState<Cell | null>(null);
  const inspectorId = useId();
  const k = methodCellPixels(rows, cols);
  const summary = useMemo(() => matrixSummary(snapshot), [snapshot]);
  const value = summaryValue(summary);
  const unwrittenCount = useMemo(() => snapshot.unwritten.reduce((a, b) => a + (b === 1 ? 1 : 0), 0), [snapshot]);

  useEffect(() => {
    const ctx = canvasRef.current?.getContext('2d');
    if (!ctx) return;
    const { data, width, height } = renderMethodMatrixPixels(snapshot, k);
    ctx.putImageData(new ImageData(data, width, height), 0, 0);
  }, [snapshot, k]);

  const move = (next: Cell | null) =>
    setCell((at) => (at?.i === next?.i && at?.j === next?.j ? at : next));
  const positiveOf = (i: number) => {
    const p = positiveColumn(snapshot, i);
    return p >= 0 ? p : null;
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    hovering.current = true;
    move(methodCellAt(e.clientX - rect.left, e.clientY - rect.top, rect.width, rect.height, rows, cols));
  };
  const onPointerLeave = () => {
    hovering.current = false;
    if (!focused.current) move(null);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const at = cell && cell.i < rows && cell.j < cols ? cell : { i: 0, j: 0 };
    const clampRow = (v: number) => Math.max(0, Math.min(rows - 1, v));
    const clampCol = (v: number) => Math.max(0, Math.min(cols - 1, v));
    const rowJump = e.shiftKey ? Math.max(1, Math.round(rows / 8)) : 1;
    const colJump = e.shiftKey ? Math.max(1, Math.round(cols / 8)) : 1;
    let next: Cell | null = null;
    if (e.key === 'ArrowUp') next = { i: clampRow(at.i - rowJump), j: at.j };
    else if (e.key === 'ArrowDown') next = { i: clampRow(at.i + rowJump), j: at.j };
    else if (e.key === 'ArrowLeft') next = { i: at.i, j: clampCol(at.j - colJump) };
    else if (e.key === 'ArrowRight') next = { i: at.i, j: clampCol(at.j + colJump) };
    else if (e.key === 'Home') next = { i: at.i, j: 0 };
    else if (e.key === 'End') next = { i: at.i, j: cols - 1 };
    else if (e.key === 'p' || e.key === 'P') {
      const p = positiveOf(at.i);
      if (p !== null) next = { i: at.i, j: p };
    }
    if (!next) return;
    e.preventDefault();
    move(next);
  };

  const gradient = useMemo(() => colourBarGradient(MATRIX_LO, MATRIX_HI), []);

  const active = cell && cell.i < rows && cell.j < cols ? cell : null;
  const partner = active ? positiveOf(active.i) : null;
  const left = (j: number) => `${(j / cols) * 100}%`;
  const top = (i: number) => `${(i / rows) * 100}%`;
  const mark = (c: Cell) => ({ left: left(c.j), top: top(c.i), width: left(1), height: top(1) });
  const plotStyle = { '--method-matrix-width': `${(LONG_SIDE_REM * cols) / Math.max(rows, cols)}rem` } as CSSProperties;
  const rowAxis = text.rows(snapshot);
  const columnAxis = text.columns(snapshot);
  const finite = Number.isFinite(value);
  // only MoCo's queue and the bank have entries that start random
  const randomStarts = kind === 'query-keys' || kind === 'batch-bank';

  return (
    <>
      <p className="method-matrix-axes">{text.axes(snapshot)}</p>
      <div className="affinity-body">
        <div className="method-matrix-plot" style={plotStyle}>
          <div className="affinity-axis affinity-axis-top" aria-hidden="true">
            {columnAxis.map((a) => <span key={a.label} style={{ flexGrow: a.span }} title={a.label}>{a.label}</span>)}
          </div>
          <div className="affinity-axis affinity-axis-left" aria-hidden="true">
            {rowAxis.map((a) => <span key={a.label} style={{ flexGrow: a.span }} title={a.label}>{a.label}</span>)}
          </div>
          <div className="affinity-canvas-wrap method-matrix-canvas-wrap">
            <canvas
              ref={canvasRef}
              data-testid={`${ids}-canvas`}
              className="method-matrix-canvas"
              width={cols * k}
              height={rows * k}
              data-rows={rows}
              data-cols={cols}
              data-cell-px={k}
              data-step={step}
              data-kind={kind}
              tabIndex={0}
              role="img"
              aria-label={`${label}, ${text.title}, at step ${step}: ${rows} rows × ${cols} columns. Arrow keys move between cells (Shift for bigger jumps), ${text.jump}; the cell's details appear beside the heatmap.`}
              aria-describedby={inspectorId}
              onPointerMove={onPointerMove}
              onPointerLeave={onPointerLeave}
              onKeyDown={onKeyDown}
              onFocus={() => {
                focused.current = true;
                if (!active) move({ i: 0, j: positiveOf(0) ?? 0 });
              }}
              onBlur={() => {
                focused.current = false;
                if (!hovering.current) move(null);
              }}
            />
            {active && (
              <>
                {partner !== null && partner !== active.j && (
                  <div className="affinity-mark affinity-mark-positive" style={mark({ i: active.i, j: partner })} aria-hidden="true" />
                )}
                <div className="affinity-mark affinity-mark-hover" style={mark(active)} aria-hidden="true" />
              </>
            )}
          </div>
        </div>
        <Inspector id={inspectorId} snapshot={snapshot} cell={active} jump={text.jump} ids={ids} />
      </div>

      <p
        className={`method-matrix-summary${finite ? '' : ' method-matrix-summary-broken'}`}
        data-testid={`${ids}-summary`}
        data-value={String(value)}
        data-finite={finite}
      >
        {summaryText(snapshot, summary)}
      </p>

      <div className="affinity-colorbar method-matrix-colorbar" data-testid={`${ids}-colorbar`} data-lo={MATRIX_LO} data-hi={MATRIX_HI}>
        <div className="affinity-colorbar-bar" style={{ background: gradient }} aria-hidden="true" />
        <div className="affinity-colorbar-ticks">
          {COLOUR_BAR_TICKS.map((t) => (
            <span key={t} style={{ left: `${((t - MATRIX_LO) / (MATRIX_HI - MATRIX_LO)) * 100}%` }}>{signed(t, t === Math.round(t) ? 0 : 1)}</span>
          ))}
        </div>
        <p className="hint">{text.colour}</p>
      </div>

      <ul className="affinity-legend method-matrix-legend" data-testid={`${ids}-legend`}>
        <li>
          <span className="affinity-swatch affinity-swatch-positive" aria-hidden="true" />
          {text.positive}
          {k < 3 && ' (cells too small to outline here: hover, or press P, to find them)'}
        </li>
        {randomStarts && (
          <li data-count={unwrittenCount}>
            <span className="affinity-swatch method-matrix-swatch-unwritten" aria-hidden="true" />
            faded and hatched: a random start, never written
            {unwrittenCount > 0
              ? ` (${unwrittenCount} of ${cols} columns)`
              : kind === 'query-keys' ? ' (none: every queue slot shown holds a real key)' : ' (none: every image shown has been stored)'}
          </li>
        )}
        {summary.nonFinite > 0 && (
          <li>
            <span className="affinity-swatch method-matrix-swatch-nan" aria-hidden="true" />
            black: not a number ({summary.nonFinite} {summary.nonFinite === 1 ? 'entry' : 'entries'})
          </li>
        )}
      </ul>
    </>
  );
}

/** The hovered or focused cell in words: what its row and column are, its value and what the loss does with it. */
function Inspector({ id, snapshot, cell, jump, ids }: { id: string; snapshot: MethodMatrixSnapshot; cell: Cell | null; jump: string; ids: string }) {
  if (!cell) {
    return (
      <aside id={id} className="affinity-inspector method-matrix-inspector" data-testid={`${ids}-inspector`} aria-live="polite">
        <p className="hint">
          Hover a cell, or focus the matrix and use the arrow keys ({jump}), to read what its row and column are and what
          the loss does with it.
        </p>
      </aside>
    );
  }
  const { i, j } = cell;
  const { kind, cols } = snapshot;
  const v = snapshot.matrix[i * cols + j];
  const d = describeCell(snapshot, i, j);
  const rank = kind === 'cross-correlation' ? NaN : positiveRank(snapshot, i);
  const tone = d.unwritten ? 'masked' : d.positive ? 'positive' : 'negative';
  return (
    <aside
      id={id}
      className="affinity-inspector method-matrix-inspector"
      data-testid={`${ids}-inspector`}
      data-i={i}
      data-j={j}
      data-value={String(v)}
      data-positive={d.positive}
      data-unwritten={d.unwritten}
      aria-live="polite"
    >
      <dl className="affinity-facts">
        <div><dt>row i</dt><dd>{i}</dd></div>
        <div><dt>column j</dt><dd>{j}</dd></div>
        <div><dt>{kind === 'cross-correlation' ? <>C<sub>ij</sub></> : 'cos'}</dt><dd>{signed(v, 3)}</dd></div>
        {d.logit !== null && <div><dt>cos / τ</dt><dd>{signed(v / snapshot.temperature, 2)}</dd></div>}
      </dl>
      <p className="method-matrix-line"><span className="method-matrix-term">Row</span> {d.row}</p>
      <p className="method-matrix-line"><span className="method-matrix-term">Column</span> {d.column}</p>
      <p className="method-matrix-line">{d.value}{d.logit && <>; {d.logit}</>}</p>
      <p className={`affinity-kind affinity-kind-${tone}`}>{d.role}</p>
      {kind !== 'cross-correlation' && (
        <p className="hint" data-testid={`${ids}-rank`} data-value={String(rank)}>
          {Number.isFinite(rank)
            ? rank === 1
              ? `Row ${i} ranks its positive first of the ${cols} columns shown.`
              : `Row ${i} ranks its positive ${rank} of the ${cols} columns shown (${rank - 1} at least as similar).`
            : `Row ${i}'s positive is not a number, so it has no rank.`}
        </p>
      )}
    </aside>
  );
}
