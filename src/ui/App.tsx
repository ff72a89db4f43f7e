import { AffinityPanel } from './AffinityPanel';
import { AugmentPanel } from './AugmentPanel';
import { BackendBadge } from './BackendBadge';
import { ComparePanel } from './ComparePanel';
import { ConfigPanel } from './ConfigPanel';
import { DatasetPanel } from './DatasetPanel';
import { ErrorBanner, Notices, UrlWarnings } from './Banners';
import { EmbeddingMapPanel } from './EmbeddingMap';
import { GeometryPanel } from './GeometryCharts';
import { KnnChart } from './KnnChart';
import { LabelEfficiencyPanel } from './LabelEfficiencyPanel';
import { LossChart, SimilarityChart } from './LossChart';
import { MetricsBar } from './MetricsBar';
import { NeighboursPanel } from './NeighboursPanel';
import { ProbeChart } from './ProbeChart';
import { StepThroughPanel } from './StepThroughPanel';
import { TemperatureLab } from './TemperatureLab';
import { TrainControls } from './TrainControls';

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <div>
          <h1>Self-Supervised Playground</h1>
          <p className="tagline">Train a self-supervised encoder (SimCLR, MoCo, BYOL, SimSiam, Barlow Twins, a memory bank) on your own GPU and watch it learn: no install, no server.</p>
        </div>
        <BackendBadge />
      </header>
      <UrlWarnings />
      <ErrorBanner />
      <Notices />
      <main className="layout">
        <aside className="sidebar">
          <DatasetPanel />
          <ConfigPanel />
        </aside>
        <section className="content">
          <TrainControls />
          <MetricsBar />
          <div className="charts">
            <LossChart />
            <SimilarityChart />
            <ProbeChart />
            <KnnChart />
          </div>
          <GeometryPanel />
          <AffinityPanel />
          <LabelEfficiencyPanel />
          <EmbeddingMapPanel />
          <NeighboursPanel />
          <TemperatureLab />
          <StepThroughPanel />
          <AugmentPanel />
          <ComparePanel />
        </section>
      </main>
      <footer className="app-footer">
        SimCLR: Chen, Kornblith, Norouzi, Hinton, <em>A Simple Framework for Contrastive Learning of Visual Representations</em>, ICML 2020.
        Fashion-MNIST © Zalando Research (MIT licence).
      </footer>
    </div>
  );
}
