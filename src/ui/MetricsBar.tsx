import { METHOD_CATALOG, type MetricUnit } from '../core/methods';
import { latestKnn, latestProbe, latestStep, useRunStore } from '../state/runStore';
import type { ProbePoint } from '../train/protocol';
import { fixed, percent } from './format';
import { healthyCollapseStd } from './trajectory';

/** A number from a step record that may predate the field (old histories): undefined unless finite. */
const finiteOrUndefined = (v: number | undefined): number | undefined => (v !== undefined && Number.isFinite(v) ? v : undefined);

function Metric({ testId, label, value, text, hint, sub }: {
  testId: string; label: string; value: number | undefined; text: string; hint: string; sub?: string;
}) {
  return (
    <div className="metric" data-testid={testId} data-value={value === undefined ? '' : String(value)} title={hint}>
      <span className="metric-label">{label}</span>
      <span className="metric-value">{text}</span>
      {sub && <span className="metric-sub">{sub}</span>}
    </div>
  );
}

function probeHint(probe: ProbePoint | undefined): string {
  if (!probe) return 'Linear probe on h: runs every K steps or on demand';
  const converged = probe.gradientNorm !== undefined
    ? `; final gradient norm ${probe.gradientNorm.toExponential(1)} (near 0: the fit converged)`
    : '';
  return `Linear probe on h at step ${probe.step}: ${probe.trainSize} train / ${probe.testSize} test images${converged}`;
}

/** A metric's number as its unit reads. */
function formatMetric(unit: MetricUnit, value: number | undefined): string {
  if (unit === 'fraction') return percent(value);
  if (unit === 'rank' || unit === 'steps') return fixed(value, 0);
  return fixed(value);
}

export function MetricsBar() {
  const step = useRunStore(latestStep);
  const methodId = useRunStore((s) => s.appliedConfig?.method ?? 'simclr');
  const method = METHOD_CATALOG[methodId];
  const probe = useRunStore(latestProbe);
  const baseline = useRunStore((s) => s.randomInitBaseline);
  const pixels = useRunStore((s) => s.rawPixelBaseline);
  const model = useRunStore((s) => s.model);
  const knn = useRunStore(latestKnn);
  const knnBaseline = useRunStore((s) => s.knnRandomInit);
  const alignment = finiteOrUndefined(step?.alignment);
  const uniformity = finiteOrUndefined(step?.uniformity);
  const collapse = finiteOrUndefined(step?.collapseStd);
  const healthy = model ? healthyCollapseStd(model.zDim) : undefined;
  return (
    <div className="metrics" aria-label="Latest metrics">
      <Metric testId="metric-step" label="step" value={step?.step ?? 0} text={String(step?.step ?? 0)} hint="Optimizer steps completed" />
      <Metric testId="metric-loss" label={method.lossName} value={step?.loss} text={fixed(step?.loss)} hint={method.lossHelp} />
      {method.metrics.map((spec) => {
        const value = finiteOrUndefined(step?.values?.[spec.key]);
        return <Metric key={spec.key} testId={spec.testId} label={spec.label} value={value} text={formatMetric(spec.unit, value)} hint={spec.help} />;
      })}
      <Metric testId="metric-step-ms" label="ms / step" value={step?.stepMs} text={fixed(step?.stepMs, 0)} hint="Wall time of the last step, read-back included" />
      <div className="metric" data-testid="metric-loss-path" data-value={step?.lossPath ?? ''} title="Which loss implementation computed the last step: fused WGSL kernels (SimCLR on webgpu) or composed tfjs ops. Switch with “Fused WebGPU loss kernels”.">
        <span className="metric-label">loss kernels</span>
        <span className="metric-value">{step ? (step.lossPath === 'fused' ? 'fused WGSL' : 'tfjs ops') : '—'}</span>
      </div>
      <div className="metric" data-testid="metric-encoder-path" data-value={step?.encoderPath ?? ''} title="Which kernels ran the encoder f in the last step: the project's WGSL programs (conv, batch norm + ReLU, pooling; webgpu only) or tfjs's stock kernels. Switch with “Fused WebGPU encoder kernels”.">
        <span className="metric-label">encoder kernels</span>
        <span className="metric-value">{step?.encoderPath ? (step.encoderPath === 'fused' ? 'fused WGSL' : 'tfjs stock') : '—'}</span>
      </div>
      <Metric testId="metric-images-per-second" label="images / s" value={step?.imagesPerSecond} text={fixed(step?.imagesPerSecond, 0)} hint="N images (2N views) per second at the last step" />
      <Metric testId="metric-probe-acc" label="probe accuracy" value={probe?.testAccuracy} text={percent(probe?.testAccuracy)} hint={probeHint(probe)} />
      <Metric testId="metric-probe-baseline" label="random-init encoder" value={baseline?.testAccuracy} text={percent(baseline?.testAccuracy)} hint={`The same probe on an untrained encoder with the same seed: what ${method.label} must beat`} />
      <Metric testId="metric-probe-pixels" label="raw pixels" value={pixels?.testAccuracy} text={percent(pixels?.testAccuracy)} hint="The same probe on the raw pixels" />
      <Metric
        testId="metric-knn-acc" label="kNN accuracy" value={knn?.testAccuracy} text={percent(knn?.testAccuracy)}
        hint={knn
          ? `Weighted kNN on h at step ${knn.step}: each of ${knn.testSize} test images takes the vote of its k = ${knn.k} nearest of ${knn.trainSize} training images, weighted exp(s/τ), τ = ${knn.temperature}. No training involved.`
          : 'Weighted kNN on h: the k most similar training images vote; runs every K steps'}
      />
      <Metric
        testId="metric-knn-baseline" label="kNN random-init" value={knnBaseline?.testAccuracy} text={percent(knnBaseline?.testAccuracy)}
        hint="The same kNN on an untrained encoder with the same seed: what the trained encoder must beat"
      />
      <Metric
        testId="metric-alignment" label="alignment" value={alignment} text={fixed(alignment)}
        hint="Wang & Isola: mean ‖ẑ₁ − ẑ₂‖² over the positive pairs of the batch. 0: the two views of an image land on the same point. Lower is better (range 0 to 4)."
      />
      <Metric
        testId="metric-uniformity" label="uniformity" value={uniformity} text={fixed(uniformity)}
        hint="Wang & Isola: log of the mean over pairs of exp(−2‖ẑᵢ − ẑⱼ‖²). Lower: the embeddings spread more evenly over the sphere; 0: all at one point."
      />
      <Metric
        testId="metric-collapse" label="collapse meter" value={collapse} text={fixed(collapse)}
        sub={healthy !== undefined ? `healthy ≈ 1/√${model?.zDim} = ${healthy.toFixed(3)}` : undefined}
        hint="Mean over the dimensions of z of the std of ℓ2-normalized z across the batch. Near 1/√d: spread over the sphere; near 0: every image maps to the same point (collapse)."
      />
      <div className="metric" data-testid="metric-tensors" data-value={step?.tensors ?? ''} data-bytes={step?.tensorBytes ?? ''} title="Tensors alive in the worker after the last step, and their bytes: flat while training means nothing leaks">
        <span className="metric-label">live tensors</span>
        <span className="metric-value">{step ? `${step.tensors} · ${(step.tensorBytes / 2 ** 20).toFixed(1)} MiB` : '—'}</span>
      </div>
      {model && (
        <div className="metric metric-model" title="Trainable parameters of f and g, and what the method holds besides them (queue, memory bank, target network, predictor)">
          <span className="metric-label">model</span>
          <span className="metric-value" data-testid="metric-method-memory" data-value={model.methodBytes}>
            {(model.parameterCount / 1000).toFixed(0)}k params · h {model.hDim} · z {model.zDim}
            {model.methodBytes > 0 && ` · ${method.label} state ${(model.methodBytes / 2 ** 20).toFixed(2)} MiB`}
          </span>
        </div>
      )}
    </div>
  );
}
