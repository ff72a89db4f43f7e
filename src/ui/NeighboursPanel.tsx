import { useEvalStore } from '../state/evalStore';
import { useRunStore } from '../state/runStore';
import type { NeighbourImage, NeighboursResult } from '../train/protocol';
import { randomIndex, sameClassCount, scoreText } from './neighbours';
import { showNeighbours } from './neighboursRequest';
import { PixelCanvas } from './PixelCanvas';
import { useEvaluationBlocker } from './useEvaluationBlocker';
import './evaluation.css';

const TILE_PX = 64;
const QUERY_PX = 96;

const NO_NAMES: string[] = [];
const nameOf = (label: number, names: readonly string[]) => (label < 0 ? 'unlabelled' : names[label] ?? `class ${label}`);

/**
 * One image and its 8 nearest training images twice: by cosine similarity of
 * h (what the encoder thinks is alike) and by Euclidean distance of the raw
 * pixels (what merely looks alike pixel for pixel).
 */
export function NeighboursPanel() {
  const state = useEvalStore((s) => s.neighbours);
  const trainCount = useRunStore((s) => s.dataset?.trainCount ?? 0);
  const classNames = useRunStore((s) => s.dataset?.classNames ?? NO_NAMES);
  const blocker = useEvaluationBlocker();
  const pickRandom = () => {
    const index = randomIndex(trainCount);
    if (index !== null) showNeighbours('train', index);
  };
  return (
    <section className="panel eval-panel neighbours-panel" data-testid="neighbours" aria-label="Nearest neighbours" aria-busy={state.pending}>
      <h2>Nearest neighbours</h2>
      <p className="hint">
        Left: the neighbours the encoder thinks are alike (closest h by cosine similarity). Right: the neighbours that merely share
        pixels (closest raw images). A good encoder finds the same kind of thing in other positions, sizes and colours, where pixel
        neighbours only match brightness and placement. Pick an image with ≈ in the gallery, a dot on the embedding map, or at random.
      </p>
      <div className="eval-actions">
        <button type="button" data-testid="neighbours-random" disabled={state.pending || blocker !== null || trainCount === 0} onClick={pickRandom}>
          Random image
        </button>
        {state.pending && <span className="eval-status" role="status" data-testid="neighbours-pending">Searching the training images…</span>}
        {!state.pending && blocker && <span className="eval-blocker">{blocker}</span>}
      </div>
      {state.error && <p className="eval-error" role="alert" data-testid="neighbours-error"><strong>No neighbours:</strong> {state.error}</p>}
      {state.result && <NeighboursResultView result={state.result} classNames={classNames} />}
      {!state.result && !state.pending && !state.error && <p className="hint">No image picked yet.</p>}
    </section>
  );
}

function NeighboursResultView({ result, classNames }: { result: NeighboursResult; classNames: readonly string[] }) {
  const { query, byH, byPixels } = result;
  const queryName = nameOf(query.label, classNames);
  return (
    <div className="neighbours-result" data-step={result.step}>
      <figure className="neighbours-query">
        <PixelCanvas batch={result.images} index={0} size={result.imageSize} channels={result.channels} label={`query: ${queryName}`} role="query" px={QUERY_PX} />
        <figcaption>
          <strong>{queryName}</strong>
          <span>{query.split} image #{query.index}</span>
          <span className="neighbours-meta">encoder at step {result.step}; {result.searched.toLocaleString()} training images searched</span>
        </figcaption>
      </figure>
      <div className="neighbours-columns">
        <NeighbourColumn
          title="By h: what the encoder thinks is alike" kind="cosine" role="neighbour-h" items={byH} offset={1}
          result={result} classNames={classNames}
        />
        <NeighbourColumn
          title="By raw pixels: what merely shares pixels" kind="distance" role="neighbour-pixels" items={byPixels} offset={1 + byH.length}
          result={result} classNames={classNames}
        />
      </div>
    </div>
  );
}

function NeighbourColumn({ title, kind, role, items, offset, result, classNames }: {
  title: string;
  kind: 'cosine' | 'distance';
  role: 'neighbour-h' | 'neighbour-pixels';
  items: NeighbourImage[];
  /** index of the first of these in result.images */
  offset: number;
  result: NeighboursResult;
  classNames: readonly string[];
}) {
  const same = sameClassCount(result.query.label, items);
  const realCount = useRunStore((st) => st.dataset?.mix?.realCount);
  return (
    <section className="neighbours-column" aria-label={title}>
      <h3>{title}</h3>
      {same !== null && (
        <p className="neighbours-meta" data-testid={`${role}-same-class`} data-value={same}>
          {same} of {items.length} share the query&apos;s class ({kind === 'cosine' ? 'higher cosine is closer' : 'smaller distance is closer'})
        </p>
      )}
      <ol className="neighbours-grid">
        {items.map((n, k) => {
          // a set X ∪ Z lists X first: a training row past it is a generated image, and says so
          const generated = realCount !== undefined && n.index >= realCount;
          const name = generated ? 'generated' : nameOf(n.label, classNames);
          const match = result.query.label >= 0 && n.label === result.query.label;
          return (
            <li key={k} className={match ? 'neighbour-match' : result.query.label >= 0 ? 'neighbour-miss' : undefined} style={generated ? { position: 'relative' } : undefined}>
              {generated && <span className="generated-badge" data-testid="generated-badge">generated</span>}
              <PixelCanvas batch={result.images} index={offset + k} size={result.imageSize} channels={result.channels} label={`${name}, ${scoreText(n.score, kind)}`} role={role} px={TILE_PX} />
              <span className="neighbour-name" title={name}>{name}</span>
              <span className="neighbour-score">{scoreText(n.score, kind)}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
