import { useEffect } from 'react';
import { useLayoutStore, useTourStore, type InstrumentId } from '../state/layoutStore';

interface TourStop {
  title: string;
  text: string;
  /** the element the stop points at (a highlight ring), by CSS selector */
  target: string;
  /** the instrument tab to open first, when the target lives in one */
  instrument?: InstrumentId;
}

/**
 * Six stops for someone who has never heard of SimCLR: Train, the views, the
 * loss, the affinity matrix, the probe and its baselines, and where to go next.
 * The card sits in the command bar, in the page's flow: it covers nothing.
 */
export const TOUR: TourStop[] = [
  {
    title: 'Welcome: an encoder that learns without labels',
    text: 'Press Train and this page trains an image encoder on your own device. Each step takes N images and makes 2N views, then moves the encoder so each view picks out its partner among the other 2N − 2. Step runs a single update; Space starts and pauses.',
    target: '[data-testid="train-start"]',
  },
  {
    title: 'Two views of every image',
    text: 'Self-supervised learning needs no labels. Each image is augmented twice at random (crop, flip, colour). The encoder is trained to recognise that the two views come from the same image.',
    target: '[data-testid="aug-preview"]',
    instrument: 'augment',
  },
  {
    title: 'The loss falls',
    text: 'The NT-Xent loss starts near the dashed line, log(2N − 1): the loss of an encoder that cannot tell the candidates apart. It falls as the encoder learns.',
    target: '[data-testid="chart-loss"]',
  },
  {
    title: 'Every view against every other',
    text: 'The affinity matrix shows the similarity of each pair of views in the batch. Two views of one image sit N places apart, so learning shows as two bright diagonals. Hover a cell to see the pair.',
    target: '[data-testid="instrument-affinity"]',
    instrument: 'affinity',
  },
  {
    title: 'Did it learn anything useful?',
    text: 'The linear probe fits a linear classifier on the frozen features, using labels the training never saw. The dashed lines are the same probe on a random encoder and on raw pixels. The gap is what self-supervision bought.',
    target: '[data-testid="chart-probe"]',
  },
  {
    title: 'Your turn',
    text: 'Change the temperature, the batch size or the method (MoCo, BYOL, SimSiam, Barlow Twins) here. The other tabs hold the instruments: lecture mode walks through one step of Algorithm 1. Press ? for the shortcuts.',
    target: '.config-panel',
  },
];

/** The highlight ring follows the tour's stop; the tab it needs is opened, and the target scrolled into view. */
function useHighlight(stop: TourStop | null) {
  const openInstrument = useLayoutStore((s) => s.openInstrument);
  useEffect(() => {
    if (!stop) return;
    if (stop.instrument) openInstrument(stop.instrument);
    // after the tab has rendered
    const frame = requestAnimationFrame(() => {
      const el = document.querySelector(stop.target);
      if (!el) return;
      el.classList.add('tour-target');
      el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    });
    return () => {
      cancelAnimationFrame(frame);
      document.querySelectorAll('.tour-target').forEach((el) => el.classList.remove('tour-target'));
    };
  }, [stop, openInstrument]);
}

export function Tour() {
  const step = useTourStore((s) => s.step);
  const goTo = useTourStore((s) => s.goTo);
  const dismiss = useTourStore((s) => s.dismiss);
  const stop = step === null ? null : TOUR[step] ?? null;
  useHighlight(stop);
  if (step === null || !stop) return null;
  // the first stop opens no tab: a tour shown on arrival leaves the page as the link asked for it
  const last = step === TOUR.length - 1;
  return (
    <section className="tour" data-testid="tour" data-step={step} aria-label="Guided tour" aria-live="polite">
      <div className="tour-head">
        <strong>{stop.title}</strong>
        <span className="tour-count">{step + 1} of {TOUR.length}</span>
      </div>
      <p>{stop.text}</p>
      <div className="tour-actions">
        <button type="button" data-testid="tour-prev" disabled={step === 0} onClick={() => goTo(step - 1)}>Back</button>
        <button type="button" className="primary" data-testid="tour-next" onClick={() => (last ? dismiss() : goTo(step + 1))}>
          {last ? 'Done' : 'Next'}
        </button>
        <button type="button" className="link-button" data-testid="tour-skip" onClick={dismiss}>Skip the tour</button>
      </div>
    </section>
  );
}
