import { latestProbe, latestStep, useRunStore } from '../state/runStore';
import { fixed, percent } from './format';

function Metric({ testId, label, value, text, hint }: { testId: string; label: string; value: number | undefined; text: string; hint: string }) {
  return (
    <div className="metric" data-testid={testId} data-value={value === undefined ? '' : String(value)} title={hint}>
      <span className="metric-label">{label}</span>
      <span className="metric-value">{text}</span>
    </div>
  );
}

export function MetricsBar() {
  const step = useRunStore(latestStep);
  const probe = useRunStore(latestProbe);
  const baseline = useRunStore((s) => s.randomInitBaseline);
  const pixels = useRunStore((s) => s.rawPixelBaseline);
  const model = useRunStore((s) => s.model);
  return (
    <div className="metrics" aria-label="Latest metrics">
      <Metric testId="metric-step" label="step" value={step?.step ?? 0} text={String(step?.step ?? 0)} hint="Optimizer steps completed" />
      <Metric testId="metric-loss" label="NT-Xent loss" value={step?.loss} text={fixed(step?.loss)} hint="Mean over the 2N anchors of −log softmax of the positive" />
      <Metric testId="metric-pos-sim" label="positive sim" value={step?.positiveSimilarity} text={fixed(step?.positiveSimilarity)} hint="Mean cosine similarity of the two views of the same image" />
      <Metric testId="metric-neg-sim" label="negative sim" value={step?.negativeSimilarity} text={fixed(step?.negativeSimilarity)} hint="Mean cosine similarity of views of different images" />
      <Metric testId="metric-contrast-acc" label="contrastive acc" value={step?.contrastiveAccuracy} text={percent(step?.contrastiveAccuracy)} hint="Share of the 2N anchors whose positive is their most similar candidate" />
      <Metric testId="metric-step-ms" label="ms / step" value={step?.stepMs} text={fixed(step?.stepMs, 0)} hint="Wall time of the last step, read-back included" />
      <div className="metric" data-testid="metric-loss-path" data-value={step?.lossPath ?? ''} title="Which NT-Xent computed the last step: fused WGSL kernels (webgpu) or composed tfjs ops. Switch with “Fused WebGPU loss kernels”.">
        <span className="metric-label">loss kernels</span>
        <span className="metric-value">{step ? (step.lossPath === 'fused' ? 'fused WGSL' : 'tfjs ops') : '—'}</span>
      </div>
      <Metric testId="metric-images-per-second" label="images / s" value={step?.imagesPerSecond} text={fixed(step?.imagesPerSecond, 0)} hint="N images (2N views) per second at the last step" />
      <Metric testId="metric-probe-acc" label="probe accuracy" value={probe?.testAccuracy} text={percent(probe?.testAccuracy)} hint={probe ? `Linear probe on h at step ${probe.step}: ${probe.trainSize} train / ${probe.testSize} test images` : 'Linear probe on h: runs every K steps or on demand'} />
      <Metric testId="metric-probe-baseline" label="random-init encoder" value={baseline?.testAccuracy} text={percent(baseline?.testAccuracy)} hint="The same probe on an untrained encoder with the same seed: what SimCLR must beat" />
      <Metric testId="metric-probe-pixels" label="raw pixels" value={pixels?.testAccuracy} text={percent(pixels?.testAccuracy)} hint="The same probe on the raw pixels" />
      <div className="metric" data-testid="metric-tensors" data-value={step?.tensors ?? ''} data-bytes={step?.tensorBytes ?? ''} title="Tensors alive in the worker after the last step, and their bytes: flat while training means nothing leaks">
        <span className="metric-label">live tensors</span>
        <span className="metric-value">{step ? `${step.tensors} · ${(step.tensorBytes / 2 ** 20).toFixed(1)} MiB` : '—'}</span>
      </div>
      {model && (
        <div className="metric metric-model" title="Trainable parameters of f and g">
          <span className="metric-label">model</span>
          <span className="metric-value">{(model.parameterCount / 1000).toFixed(0)}k params · h {model.hDim} · z {model.zDim}</span>
        </div>
      )}
    </div>
  );
}
