import { ColorHistogram } from './ColorHistogram';
import { ViewCanvas } from './ViewCanvas';
import './augment.css';

export interface AugmentPreviewProps {
  /** count × sourceSize² × channels, HWC, 0..255 */
  originals: Uint8Array;
  /** first views t(x): count × outputSize² × channels, HWC, floats in [0, 1] */
  views1: Float32Array;
  /** second views t′(x), same layout and image order as views1 */
  views2: Float32Array;
  count: number;
  sourceSize: number;
  outputSize: number;
  channels: 1 | 3;
  classNames?: string[];
  labels?: number[];
  /** per image: true when it is a generated image (Z of a mixed training set), badged as such */
  generated?: boolean[];
  /** a new render is on its way; the previous views stay on screen meanwhile */
  pending: boolean;
  error?: string;
  onResample(): void;
  renderMs?: number;
}

/** The first n values, without a new array object when that is all of them (keeps ColorHistogram's memo). */
const firstCount = (values: Float32Array, n: number) => (values.length === n ? values : values.subarray(0, n));

/**
 * Each image x next to two views t(x), t′(x) drawn independently from the
 * augmentation pipeline: what the encoder is asked to call "the same".
 */
export function AugmentPreview(props: AugmentPreviewProps) {
  const { originals, views1, views2, sourceSize, outputSize, channels, classNames, labels, pending, error, onResample, renderMs } = props;
  const sourcePer = sourceSize * sourceSize * channels;
  const viewPer = outputSize * outputSize * channels;
  // never read past the arrays, e.g. while a size change is still on its way to the worker
  const count = Math.max(0, Math.min(
    props.count,
    sourcePer > 0 ? Math.floor(originals.length / sourcePer) : 0,
    viewPer > 0 ? Math.floor(views1.length / viewPer) : 0,
    viewPer > 0 ? Math.floor(views2.length / viewPer) : 0,
  ));

  return (
    <section className="aug-preview" data-testid="aug-preview" aria-label="Augmentation preview" aria-busy={pending} data-pending={String(pending)}>
      <header className="aug-preview-head">
        <h2>Augmented views</h2>
        <button type="button" className="aug-resample" data-testid="aug-resample" onClick={onResample}>
          Resample
        </button>
        <span className="aug-preview-status" role="status">
          {pending ? (
            <span className="aug-pending" data-testid="aug-pending">updating…</span>
          ) : renderMs !== undefined ? (
            <span className="hint" data-testid="aug-render-ms" data-value={String(renderMs)}>rendered in {Math.round(renderMs)} ms</span>
          ) : null}
        </span>
      </header>
      <p className="hint">
        Each card: an image x and two views t(x), t′(x) drawn independently from the pipeline. SimCLR trains the encoder to
        map both views close together and away from the views of every other image.
      </p>
      {error && <div className="aug-preview-error" role="alert" data-testid="aug-preview-error">{error}</div>}
      {count === 0 ? (
        <p className="hint aug-empty">{pending ? 'Drawing the first views…' : 'No views to show yet.'}</p>
      ) : (
        <ol className={`aug-grid${pending ? ' aug-grid-pending' : ''}`}>
          {Array.from({ length: count }, (_, i) => {
            const label = labels?.[i];
            const className = label === undefined ? undefined : classNames?.[label];
            const generated = props.generated?.[i] ?? false;
            const of = `image ${i + 1}${className ? ` (${className})` : generated ? ' (generated)' : ''}`;
            const view = (views: Float32Array) => views.subarray(i * viewPer, (i + 1) * viewPer);
            return (
              <li key={i} className={`aug-triplet${generated ? ' aug-generated' : ''}`} data-origin={generated ? 'generated' : 'real'}>
                {generated && <span className="generated-badge" data-testid="generated-badge" title="Made by the generative model, not a real image">generated</span>}
                <figure className="aug-cell">
                  <ViewCanvas pixels={originals.subarray(i * sourcePer, (i + 1) * sourcePer)} size={sourceSize} channels={channels} role="original" label={`Original x, ${of}`} />
                  <figcaption>x</figcaption>
                </figure>
                <figure className="aug-cell">
                  <ViewCanvas pixels={view(views1)} size={outputSize} channels={channels} role="view" label={`First view t(x) of ${of}`} />
                  <figcaption>t(x)</figcaption>
                </figure>
                <figure className="aug-cell">
                  <ViewCanvas pixels={view(views2)} size={outputSize} channels={channels} role="view" label={`Second view t′(x) of ${of}`} />
                  <figcaption>t′(x)</figcaption>
                </figure>
                {className && <div className="aug-class" title={className}>{className}</div>}
              </li>
            );
          })}
        </ol>
      )}
      {count > 0 && (
        <ColorHistogram
          views1={firstCount(views1, count * viewPer)}
          views2={firstCount(views2, count * viewPer)}
          channels={channels}
          count={count}
        />
      )}
    </section>
  );
}
