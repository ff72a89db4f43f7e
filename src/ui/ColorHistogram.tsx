import { useMemo } from 'react';
import { fixed } from './format';
import { colorHistogram, histogramDistance, normalizeHistogram } from './histogram';

export interface ColorHistogramProps {
  /** all first views, count × outputSize² × channels, HWC, floats in [0, 1] */
  views1: Float32Array;
  /** all second views, same layout and order as views1 */
  views2: Float32Array;
  channels: 1 | 3;
  /** number of images in views1/views2; when given, views of the same image are also compared pair by pair */
  count?: number;
}

const BINS = 32;
/** Fewer bins per single view: one 28 px view has too few pixels to fill 32 bins without noise. */
const PAIR_BINS = 16;
const RGB = [
  { name: 'R', color: '#dc2626' },
  { name: 'G', color: '#16a34a' },
  { name: 'B', color: '#2563eb' },
];
const GRAY = [{ name: 'intensity', color: '#334155' }];
const W = 240;
const H = 90;

/** Mean histogram distance of same-image view pairs (i, i) and of different-image pairs (i, j ≠ i). */
function pairDistances(views1: Float32Array, views2: Float32Array, channels: 1 | 3, count: number) {
  const per = views1.length / count;
  if (count < 1 || !Number.isInteger(per) || per === 0 || views2.length !== views1.length) return null;
  const h1 = Array.from({ length: count }, (_, i) => colorHistogram(views1.subarray(i * per, (i + 1) * per), channels, PAIR_BINS));
  const h2 = Array.from({ length: count }, (_, i) => colorHistogram(views2.subarray(i * per, (i + 1) * per), channels, PAIR_BINS));
  let same = 0;
  let other = 0;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < count; j++) {
      if (i === j) same += histogramDistance(h1[i], h2[j]);
      else other += histogramDistance(h1[i], h2[j]);
    }
  }
  return { same: same / count, other: count > 1 ? other / (count * (count - 1)) : Number.NaN };
}

function HistogramPlot({ hist, yMax, title }: { hist: number[][]; yMax: number; title: string }) {
  const series = hist.length === 3 ? RGB : GRAY;
  const bins = hist[0]?.length ?? 0;
  const x = (k: number) => (bins <= 1 ? 0 : (k / (bins - 1)) * W);
  const y = (v: number) => H - (yMax > 0 ? (v / yMax) * H : 0);
  return (
    <figure className="aug-hist-plot">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`${title}: colour histogram, ${series.map((s) => s.name).join(', ')}`}>
        <line x1={0} y1={H} x2={W} y2={H} className="aug-hist-axis" />
        {hist.map((channel, c) => (
          <polyline
            key={series[c].name}
            points={channel.map((v, k) => `${x(k).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}
            fill="none"
            stroke={series[c].color}
            strokeWidth={1.5}
            vectorEffect="non-scaling-stroke"
            strokeOpacity={0.85}
          />
        ))}
      </svg>
      <figcaption>
        <span>{title}</span>
        <span className="aug-hist-range" aria-hidden="true"><span>dark</span><span>bright</span></span>
      </figcaption>
    </figure>
  );
}

/**
 * The colour histograms of all first views and of all second views side by
 * side, with their distance, and (given `count`) how much closer two views of
 * the same image are in colour than views of different images.
 */
export function ColorHistogram({ views1, views2, channels, count }: ColorHistogramProps) {
  const stats = useMemo(() => {
    const h1 = colorHistogram(views1, channels, BINS);
    const h2 = colorHistogram(views2, channels, BINS);
    const empty = views1.length === 0 || views2.length === 0;
    const n1 = normalizeHistogram(h1);
    const n2 = normalizeHistogram(h2);
    const yMax = Math.max(0, ...n1.flat(), ...n2.flat());
    return {
      n1, n2, yMax,
      distance: empty ? Number.NaN : histogramDistance(h1, h2),
      pairs: count === undefined || empty ? null : pairDistances(views1, views2, channels, count),
    };
  }, [views1, views2, channels, count]);
  const series = channels === 3 ? RGB : GRAY;
  const show = (v: number) => (Number.isFinite(v) ? fixed(v) : '—');
  const raw = (v: number) => (Number.isFinite(v) ? String(v) : '');

  return (
    <figure className="aug-hist" data-testid="aug-hist">
      <figcaption>
        <h3>Colour histograms of the views</h3>
        <p>
          If crops of the same image share a colour histogram, the encoder can match views by colour alone and never
          learn shapes; colour jitter breaks this shortcut.
        </p>
        <p className="aug-hist-legend">
          {series.map((s) => (
            <span key={s.name}><span className="aug-swatch" style={{ background: s.color }} aria-hidden="true" />{s.name}</span>
          ))}
          <span className="hint">x: intensity, y: share of pixels</span>
        </p>
      </figcaption>
      <div className="aug-hist-plots">
        <HistogramPlot hist={stats.n1} yMax={stats.yMax} title="all t(x)" />
        <HistogramPlot hist={stats.n2} yMax={stats.yMax} title="all t′(x)" />
      </div>
      <dl className="aug-hist-stats">
        <div title="L1 distance between the two normalized histograms above, averaged over channels: 0 = same colours, 2 = no colour in common">
          <dt>distance t(x) vs t′(x)</dt>
          <dd data-testid="aug-hist-distance" data-value={raw(stats.distance)}>{show(stats.distance)}</dd>
        </div>
        {stats.pairs && (
          <>
            <div title="Mean histogram distance between the two views of the same image">
              <dt>same image</dt>
              <dd data-testid="aug-hist-pair-distance" data-value={raw(stats.pairs.same)}>{show(stats.pairs.same)}</dd>
            </div>
            <div title="Mean histogram distance between views of different images">
              <dt>different images</dt>
              <dd data-testid="aug-hist-other-distance" data-value={raw(stats.pairs.other)}>{show(stats.pairs.other)}</dd>
            </div>
          </>
        )}
      </dl>
      {stats.pairs && (
        <p className="hint">
          When views of the same image are much closer in colour than views of different images, colour alone gives the
          positive pair away. Turn on colour jitter and watch the two numbers move together.
        </p>
      )}
    </figure>
  );
}
