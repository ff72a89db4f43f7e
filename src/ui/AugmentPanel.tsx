import { PRESET_NAMES, pipelinesEqual, presetPipeline, type PresetName } from '../core/pipeline';
import { useConfigStore } from '../state/configStore';
import { usePreviewStore } from '../state/previewStore';
import { useRunStore } from '../state/runStore';
import { previewer } from '../state/trainingClient';
import { AugmentControls } from './AugmentControls';
import { AugmentPreview } from './AugmentPreview';

/**
 * The augmentation family T: its operators on the left, and on the right the
 * previewer, which renders t(x), t′(x) in the worker through the same
 * function the training step uses.
 */
export function AugmentPanel() {
  const pipeline = useConfigStore((s) => s.config.augmentation);
  const outputSize = useConfigStore((s) => s.config.imageSize);
  const errors = useConfigStore((s) => s.pipelineErrors);
  const setPipeline = useConfigStore((s) => s.setPipeline);
  const preview = usePreviewStore();
  const dataset = useRunStore((s) => s.dataset);
  const preset: PresetName | 'custom' = PRESET_NAMES.find((name) => pipelinesEqual(presetPipeline(name), pipeline)) ?? 'custom';
  const result = preview.result;
  return (
    <section className="panel augment-panel" aria-label="Augmentations">
      <h2>Augmentations t ~ T</h2>
      <p className="hint">
        Each image is augmented twice by operators drawn from this family; SimCLR learns to match the two views.
        Changes apply to the previewer at once and to training from the next step.
      </p>
      <div className="augment-layout">
        <AugmentControls
          pipeline={pipeline}
          onChange={setPipeline}
          errors={errors}
          preset={preset}
          onPreset={(name) => setPipeline(presetPipeline(name))}
        />
        {result ? (
          <AugmentPreview
            originals={result.originals}
            views1={result.views1}
            views2={result.views2}
            count={result.count}
            sourceSize={result.sourceSize}
            outputSize={result.outputSize}
            channels={result.channels}
            classNames={dataset?.classNames}
            labels={result.labels}
            generated={dataset?.mix ? result.indices.map((i) => i >= dataset.mix!.realCount) : undefined}
            pending={preview.pending}
            error={preview.error ?? undefined}
            onResample={previewer.resample}
            renderMs={result.ms}
          />
        ) : (
          <div className="aug-preview-placeholder" data-testid="aug-preview-loading">
            {preview.error ?? (outputSize ? 'Rendering the views…' : '')}
          </div>
        )}
      </div>
    </section>
  );
}
