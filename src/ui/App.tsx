import { AffinityPanel } from './AffinityPanel';
import { ActivityLine } from './ActivityLine';
import { AugmentPanel } from './AugmentPanel';
import { BackendBadge, DeviceAdvice } from './BackendBadge';
import { ComparePanel } from './ComparePanel';
import { ConfigPanel } from './ConfigPanel';
import { DatasetPanel } from './DatasetPanel';
import { ErrorBanner, ErrorPointer, Notices, UrlWarnings } from './Banners';
import { EmbeddingMapPanel } from './EmbeddingMap';
import { GeometryPanel } from './GeometryCharts';
import { GeneratorPanel } from './GeneratorPanel';
import { GeneratedExperimentPanel } from './GeneratedExperimentPanel';
import { InstrumentPanel, InstrumentTabs } from './InstrumentTabs';
import { KnnChart } from './KnnChart';
import { LabelEfficiencyPanel } from './LabelEfficiencyPanel';
import { LossChart, SimilarityChart } from './LossChart';
import { MetricsBar } from './MetricsBar';
import { NeighboursPanel } from './NeighboursPanel';
import { ProbeChart } from './ProbeChart';
import { RunExport } from './RunExport';
import { ResumeOffer, SaveExportPanel } from './SaveExportPanel';
import { ShortcutsHelp, useShortcuts } from './Shortcuts';
import { StepThroughPanel } from './StepThroughPanel';
import { TemperatureLab } from './TemperatureLab';
import { TrainControls } from './TrainControls';
import { Tour } from './Tour';
import { useEffect, useRef } from 'react';
import { useLayoutStore, useTourStore } from '../state/layoutStore';

/** The rail sits just under the sticky command bar, whose height changes with the progress line and banners. */
function useCommandBarHeight() {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const bar = ref.current;
    if (!bar || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => document.documentElement.style.setProperty('--command-bar-height', `${bar.offsetHeight}px`));
    observer.observe(bar);
    return () => observer.disconnect();
  }, []);
  return ref;
}

/**
 * One screen for the three users: the settings on the left, the command bar
 * (controls, progress, errors) always at the top, the live metrics and charts
 * always in view on the right, and one instrument at a time in the middle,
 * chosen by tab, key 1–9, or the address bar's hash.
 */
export function App() {
  useShortcuts();
  const commandBar = useCommandBarHeight();
  const setHelpOpen = useLayoutStore((s) => s.setHelpOpen);
  const startTour = useTourStore((s) => s.start);
  return (
    <div className="app">
      <header className="app-header">
        <div className="app-title">
          <h1>Self-Supervised Playground</h1>
          <p className="tagline">Train a self-supervised encoder (SimCLR, MoCo, BYOL, SimSiam, Barlow Twins, a memory bank) in your browser on your own GPU, and watch it learn.</p>
        </div>
        <BackendBadge />
        <button type="button" className="tour-button" data-testid="tour-start" onClick={startTour} title="A six-stop tour of the page for a first visit">Tour</button>
        <button type="button" className="help-button" data-testid="shortcuts-open" onClick={() => setHelpOpen(true)} aria-keyshortcuts="?" title="Keyboard shortcuts (?)">?</button>
      </header>
      <UrlWarnings />
      <main className="layout">
        <aside className="sidebar" aria-label="Dataset and settings">
          <ErrorPointer />
          <DatasetPanel />
          <ConfigPanel />
        </aside>
        <div className="workspace">
          <div className="command-bar" data-testid="command-bar" ref={commandBar}>
            <TrainControls />
            <Tour />
            <ActivityLine />
            <DeviceAdvice />
            <ErrorBanner />
            <ResumeOffer />
            <Notices />
          </div>
          <div className="workspace-body">
            <section className="instruments" aria-label="Instruments">
              <InstrumentTabs />
              <InstrumentPanel id="affinity"><AffinityPanel /></InstrumentPanel>
              <InstrumentPanel id="geometry"><GeometryPanel /></InstrumentPanel>
              <InstrumentPanel id="evaluation">
                <LabelEfficiencyPanel />
                <EmbeddingMapPanel />
                <NeighboursPanel />
              </InstrumentPanel>
              <InstrumentPanel id="temperature"><TemperatureLab /></InstrumentPanel>
              <InstrumentPanel id="lecture"><StepThroughPanel /></InstrumentPanel>
              <InstrumentPanel id="augment"><AugmentPanel /></InstrumentPanel>
              <InstrumentPanel id="compare"><ComparePanel /></InstrumentPanel>
              <InstrumentPanel id="generated">
                <GeneratorPanel />
                <GeneratedExperimentPanel />
              </InstrumentPanel>
              <InstrumentPanel id="export"><SaveExportPanel /></InstrumentPanel>
            </section>
            <section className="live" aria-label="Live metrics and charts" data-testid="live-rail">
              <MetricsBar />
              <RunExport />
              <div className="charts">
                <LossChart />
                <SimilarityChart />
                <ProbeChart />
                <KnnChart />
              </div>
            </section>
          </div>
        </div>
      </main>
      <footer className="app-footer">
        SimCLR: Chen, Kornblith, Norouzi, Hinton, <em>A Simple Framework for Contrastive Learning of Visual Representations</em>, ICML 2020.
        Fashion-MNIST © Zalando Research (MIT licence). Press <kbd>?</kbd> for keyboard shortcuts.
      </footer>
      <ShortcutsHelp />
    </div>
  );
}
