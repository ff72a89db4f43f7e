import { memo, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { useEvalStore } from '../state/evalStore';
import { latestStep, useRunStore } from '../state/runStore';
import { evaluation } from '../state/trainingClient';
import type { EmbeddingProjection, EmbeddingResult } from '../train/protocol';
import { buildGrid, classColour, classesPresent, drawnCount, layoutPoints, nearestPoint } from './embeddingMap';
import { percent } from './format';
import { showNeighbours } from './neighboursRequest';
import { PixelCanvas } from './PixelCanvas';
import { useEvaluationBlocker } from './useEvaluationBlocker';
import { useDownloadWhenReady } from './useDownloadWhenReady';
import './evaluation.css';

/** The map's drawing box in CSS px (the canvas holds devicePixelRatio times as many pixels); CSS may shrink it. */
const MAP_PX = 400;
const PADDING_PX = 10;
const DOT_RADIUS_PX = 2.5;
/** A hover or click finds the nearest point within this many CSS px (also the hit grid's cell). */
const HIT_RADIUS_PX = 8;
const THUMB_PX = 64;

const PROJECTION_TEXT: Record<EmbeddingProjection, string> = {
  pca:
    'PCA: the two directions along which h varies most, a linear shadow of the representation. Distances are honest, but classes that the full h separates can overlap in just two directions.',
  umap:
    'UMAP: a non-linear map that keeps each image near its nearest neighbours in h. Clusters are meaningful; the distances between clusters and their sizes are not.',
};

const className = (label: number, names: readonly string[]) => (label < 0 ? 'unlabelled' : names[label] ?? `class ${label}`);

/**
 * h of the map's images, every dimension, as the files TensorBoard's
 * Embedding Projector loads (vectors.tsv, metadata.tsv, a sprite), zipped:
 * downloaded once the worker has answered.
 */
function ProjectorExportButton({ blocked }: { blocked: boolean }) {
  const projector = useEvalStore((s) => s.projector);
  useDownloadWhenReady(projector.bundle, projector.requestId, 'application/zip');
  return (
    <>
      <button type="button" data-testid="projector-export" disabled={projector.pending || blocked} onClick={() => evaluation.exportProjector()}
        title="h of the same images, every dimension, with labels and thumbnails: open it in projector.tensorflow.org (Load) or TensorBoard">
        {projector.pending ? 'Exporting…' : 'Export for the TensorBoard projector'}
      </button>
      {projector.bundle && !projector.pending && (
        <span className="eval-status" data-testid="projector-export-done">{projector.bundle.fileName}: {projector.bundle.n} points × {projector.bundle.d} dimensions</span>
      )}
      {projector.error && <span className="eval-error" role="alert" data-testid="projector-export-error">The export failed: {projector.error}</span>}
    </>
  );
}


/** The 2-D map of h for the trained encoder, and the random-init one beside it: where the classes land without any labels. */
export function EmbeddingMapPanel() {
  const state = useEvalStore((s) => s.embedding);
  const classNames = useRunStore((s) => s.dataset?.classNames ?? NO_NAMES);
  const blocker = useEvaluationBlocker();
  const [projection, setProjection] = useState<EmbeddingProjection>(state.projection);
  const [sideBySide, setSideBySide] = useState(state.sideBySide);
  const encoder = state.maps.encoder;
  const randomInit = state.maps['random-init'];
  const stale = useRunStore((s) => encoder !== undefined && (latestStep(s)?.step ?? 0) !== encoder.step);
  const shownProjection = encoder?.projection ?? randomInit?.projection ?? projection;
  const legend = useMemo(() => classesPresent(encoder?.labels ?? randomInit?.labels ?? []), [encoder, randomInit]);
  const hasMap = encoder !== undefined || randomInit !== undefined;
  const unlabelled = legend.length === 1 && legend[0] < 0;
  // the controls show what the latest request asked for (also one made before this panel mounted)
  useEffect(() => {
    setProjection(state.projection);
    setSideBySide(state.sideBySide);
  }, [state.requestId, state.projection, state.sideBySide]);

  return (
    <section className="panel eval-panel" data-testid="embedding-panel" aria-label="Embedding map" aria-busy={state.pending}>
      <h2>Embedding map</h2>
      <p className="hint">
        Each dot is one image, placed by its representation h and coloured by its class. The encoder never saw the classes: if dots of
        one colour gather, it learned to tell them apart by itself. Hover a dot to see the image; click it for its nearest neighbours.
      </p>
      <div className="eval-controls">
        <label className="eval-field">
          <span>Projection to 2-D</span>
          <select id="embedding-projection" data-testid="embedding-projection" value={projection} disabled={state.pending}
            onChange={(e) => setProjection(e.target.value === 'umap' ? 'umap' : 'pca')}>
            <option value="pca">PCA (linear, fast)</option>
            <option value="umap">UMAP (non-linear neighbourhoods)</option>
          </select>
        </label>
        <label className="eval-check">
          <input id="embedding-side-by-side" data-testid="embedding-side-by-side" type="checkbox" checked={sideBySide} disabled={state.pending}
            onChange={(e) => setSideBySide(e.target.checked)} />
          side by side with the random-init encoder
        </label>
      </div>
      <div className="eval-actions">
        <button type="button" className="primary" data-testid="embedding-map-run" disabled={state.pending || blocker !== null}
          onClick={() => evaluation.embedding(projection, sideBySide)}>
          {hasMap ? 'Recompute the map' : 'Compute the map'}
        </button>
        {state.pending && (
          <span className="eval-status" role="status" data-testid="embedding-progress">
            {state.progress ? `${state.progress.phase} (${state.progress.done} of ${state.progress.total})` : 'Starting…'}
          </span>
        )}
        <ProjectorExportButton blocked={blocker !== null} />
        {!state.pending && blocker && <span className="eval-blocker">{blocker}</span>}
        {!state.pending && stale && <span className="eval-status">The encoder has trained since this map was made: recompute to update it.</span>}
      </div>
      {state.error && <p className="eval-error" role="alert" data-testid="embedding-error"><strong>The map failed:</strong> {state.error}</p>}

      {(hasMap || state.pending) && (
        <>
          <p className="eval-caption">
            {PROJECTION_TEXT[shownProjection]}
            {unlabelled && ' These images have no labels, so every dot is grey: hover over clumps to see what the encoder put together.'}
          </p>
          <div className="embedding-maps">
            {encoder ? (
              <MapFigure result={encoder} classNames={classNames} testId="embedding-map"
                title={`Trained encoder, step ${encoder.step}`} />
            ) : (
              state.pending && <MapPlaceholder title="Trained encoder" text="Computing the trained encoder’s map…" />
            )}
            {randomInit ? (
              <MapFigure result={randomInit} classNames={classNames} testId="embedding-map-random-init"
                title="Random-init encoder (same seed, untrained)" />
            ) : (
              state.pending && state.sideBySide && <MapPlaceholder title="Random-init encoder (same seed, untrained)" text="Computing the random-init encoder’s map…" />
            )}
          </div>
          {legend.length > 0 && (
            <ul className="embedding-legend" aria-label="Classes">
              {legend.map((label) => (
                <li key={label}><span className="embedding-swatch" style={{ background: classColour(label) }} />{className(label, classNames)}</li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

const NO_NAMES: string[] = [];

function MapPlaceholder({ title, text }: { title: string; text: string }) {
  return (
    <figure className="embedding-figure">
      <figcaption>
        <h3>{title}</h3>
        <p>&nbsp;</p>
      </figcaption>
      <div className="embedding-placeholder">{text}</div>
    </figure>
  );
}

interface Hover {
  index: number;
  /** CSS px in the MAP_PX box */
  x: number;
  y: number;
}

/**
 * One map on a canvas, drawn in one pass per class colour when the result
 * arrives; hovering is hit-tested on a grid at most once per animation frame.
 */
const MapFigure = memo(function MapFigure({ result, classNames, testId, title }: {
  result: EmbeddingResult; classNames: readonly string[]; testId: string; title: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const frame = useRef<number | null>(null);
  const pointer = useRef<{ x: number; y: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const xy = useMemo(() => layoutPoints(result.points, MAP_PX, MAP_PX, PADDING_PX), [result]);
  const grid = useMemo(() => buildGrid(xy, MAP_PX, MAP_PX, HIT_RADIUS_PX), [xy]);
  const count = useMemo(() => drawnCount(xy), [xy]);
  // crisp dots on high-density screens: the canvas holds dpr × MAP_PX pixels, drawn in CSS px through the transform
  const dpr = typeof window === 'undefined' ? 1 : Math.min(3, window.devicePixelRatio || 1);

  useEffect(() => {
    const element = canvas.current;
    const ctx = element?.getContext('2d');
    if (!element || !ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, MAP_PX, MAP_PX);
    const byLabel = new Map<number, number[]>();
    for (let i = 0; i < result.labels.length; i++) {
      if (!Number.isFinite(xy[2 * i])) continue;
      const label = result.labels[i] < 0 ? -1 : result.labels[i];
      let list = byLabel.get(label);
      if (!list) byLabel.set(label, (list = []));
      list.push(i);
    }
    ctx.globalAlpha = 0.8;
    for (const [label, indices] of byLabel) {
      ctx.fillStyle = classColour(label);
      ctx.beginPath();
      for (const i of indices) {
        ctx.moveTo(xy[2 * i] + DOT_RADIUS_PX, xy[2 * i + 1]);
        ctx.arc(xy[2 * i], xy[2 * i + 1], DOT_RADIUS_PX, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }, [result, xy, dpr]);

  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
  }, []);
  useEffect(() => setHover(null), [result]);

  /** The event's position in the MAP_PX box, whatever size CSS gives the canvas. */
  const toMap = (event: MouseEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) * MAP_PX) / rect.width, y: ((event.clientY - rect.top) * MAP_PX) / rect.height };
  };
  const hitAt = (p: { x: number; y: number }) => nearestPoint(grid, p.x, p.y, HIT_RADIUS_PX);

  const onMove = (event: MouseEvent<HTMLCanvasElement>) => {
    pointer.current = toMap(event);
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      const p = pointer.current;
      const index = p ? hitAt(p) : -1;
      setHover((previous) => {
        if (index < 0) return null;
        if (previous?.index === index) return previous;
        return { index, x: xy[2 * index], y: xy[2 * index + 1] };
      });
    });
  };
  const onLeave = () => {
    pointer.current = null;
    setHover(null);
  };
  const onClick = (event: MouseEvent<HTMLCanvasElement>) => {
    const index = hitAt(toMap(event));
    if (index >= 0) showNeighbours(result.split, result.indices[index]);
  };

  const label = hover ? result.labels[hover.index] : -1;
  const flip = hover !== null && hover.x > MAP_PX * 0.6;
  return (
    <figure className="embedding-figure">
      <figcaption>
        <h3>{title}</h3>
        <p>
          {count.toLocaleString()} {result.split} images
          {result.explained && ` · PC1 ${percent(result.explained[0])}, PC2 ${percent(result.explained[1])} of the variance`}
        </p>
      </figcaption>
      <div className="embedding-canvas-wrap" data-testid={testId} data-count={count} data-projection={result.projection} data-step={result.step}>
        <canvas
          ref={canvas} className={`embedding-canvas${hover ? ' embedding-canvas-hit' : ''}`} width={Math.round(MAP_PX * dpr)} height={Math.round(MAP_PX * dpr)}
          role="img" aria-label={`${title}: ${count} images as dots coloured by class`}
          onPointerMove={onMove} onPointerLeave={onLeave} onClick={onClick}
        />
        {hover && (
          <>
            <span className="embedding-ring" style={{ left: `${(hover.x / MAP_PX) * 100}%`, top: `${(hover.y / MAP_PX) * 100}%`, borderColor: classColour(label) }} />
            <div
              className="embedding-tooltip"
              style={{
                left: `${(hover.x / MAP_PX) * 100}%`, top: `${(hover.y / MAP_PX) * 100}%`,
                transform: `translate(${flip ? 'calc(-100% - 10px)' : '10px'}, ${hover.y > MAP_PX * 0.6 ? 'calc(-100% - 10px)' : '10px'})`,
              }}
            >
              <PixelCanvas batch={result.images} index={hover.index} size={result.imageSize} channels={result.channels} label={className(label, classNames)} px={THUMB_PX} />
              <span>{className(label, classNames)}</span>
              <span className="embedding-tooltip-hint">{result.split} #{result.indices[hover.index]} · click for neighbours</span>
            </div>
          </>
        )}
      </div>
    </figure>
  );
});
