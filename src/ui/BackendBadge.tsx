import { useEffect } from 'react';
import { useConfigStore } from '../state/configStore';
import { latestStep, useRunStore } from '../state/runStore';
import { training } from '../state/trainingClient';
import { autoLightChange, autoLightNotice, describeDevice, describeSetup, deviceAdvice, lightSetupChange, typicalStepMs } from './device';

/**
 * The device line: what the training runs on, in a student's words
 * ("WebGPU on a CPU emulation (SwiftShader): no GPU found"), the backend as a
 * short badge, and after a fallback, why the better backends were not used.
 */
export function BackendBadge() {
  const backend = useRunStore((s) => s.backend);
  const reasons = useRunStore((s) => s.backendReasons);
  const adapter = useRunStore((s) => s.adapter);
  const device = useRunStore((s) => s.device);
  const status = useRunStore((s) => s.status);
  const description = backend ? describeDevice(backend, device) : null;
  return (
    <div className="backend">
      <div className="device-row">
        <span
          data-testid="backend-badge"
          data-value={backend ?? ''}
          className={`badge badge-${backend ?? 'pending'}${description?.onCpu ? ' badge-slow' : ''}`}
          title={adapter ? `Adapter: ${adapter}` : undefined}
        >
          {backend ?? 'starting…'}
        </span>
        <span
          className={`device-line${description?.onCpu ? ' device-line-cpu' : ''}`}
          data-testid="device-line"
          data-on-cpu={description ? String(description.onCpu) : ''}
          title={adapter ? `What the browser reports: ${adapter}` : undefined}
        >
          {description?.headline ?? 'Looking for a GPU…'}
        </span>
        <span className={`status status-${status}`} data-testid="run-status" data-value={status}>{status}</span>
      </div>
      {reasons.length > 0 && (
        <ul className="backend-reasons" data-testid="backend-reasons">
          {reasons.map((r) => <li key={r}>{r}</li>)}
        </ul>
      )}
    </div>
  );
}

/**
 * At start, once: when the worker reports that the training runs on the
 * processor, the light setup replaces the defaults nobody gave, before the
 * first step (the new encoder's reset queues behind the worker's first build,
 * so a Train pressed at once trains the light one).
 */
function useSizeToDevice(): void {
  const backend = useRunStore((s) => s.backend);
  const device = useRunStore((s) => s.device);
  useEffect(() => {
    if (!backend) return;
    const { onCpu } = describeDevice(backend, device);
    const lightened = useConfigStore.getState().sizeToDevice((config, userGiven) => (onCpu ? autoLightChange(config, userGiven) : null));
    if (lightened) training.reset();
  }, [backend, device]);
}

/**
 * On a slow device: the light setup the page applied by itself and the full
 * one a click back; else what to expect (how long 100 steps take), and the
 * light setup one click away, with the full one a click back.
 */
export function DeviceAdvice() {
  useSizeToDevice();
  const backend = useRunStore((s) => s.backend);
  const device = useRunStore((s) => s.device);
  const stepMs = useRunStore((s) => typicalStepMs(s.steps));
  const hasSteps = useRunStore((s) => latestStep(s) !== undefined);
  const config = useConfigStore((s) => s.config);
  const fullSetup = useConfigStore((s) => s.setupBeforeLight);
  const autoLight = useConfigStore((s) => s.autoLight);
  if (!backend) return null;
  const description = describeDevice(backend, device);
  // before a second step, a GPU says nothing; a CPU gets the warning at once
  const advice = deviceAdvice(description, stepMs, config);
  const change = lightSetupChange(config);
  const useLight = () => {
    useConfigStore.getState().chooseLightSetup(change);
    training.reset();
  };
  const useFull = () => {
    if (useConfigStore.getState().chooseFullSetup()) training.reset();
  };
  const cleared = hasSteps ? ' (this run’s charts are cleared)' : '';
  if (autoLight) {
    return (
      <div className="device-advice" data-testid="device-auto-light" role="status">
        <span>
          {autoLightNotice(description, config, autoLight)}
          {/* the speed once it is measured, should the light setup still be slow here */}
          {advice && stepMs !== undefined && ` ${advice.text}`}
        </span>
        {fullSetup && (
          <button type="button" data-testid="device-full-setup" onClick={useFull} title={`Back to ${describeSetup(fullSetup)} and a new encoder${cleared}; on this device expect seconds to minutes a step`}>
            Use the full setup
          </button>
        )}
      </div>
    );
  }
  if (!advice && !fullSetup) return null;
  return (
    <div className="device-advice" data-testid="device-advice" role="note">
      {advice && <span>{advice.text}</span>}
      {advice?.offerLight && (
        <button type="button" data-testid="device-light-setup" onClick={useLight} title={`Sets ${describeSetup(change.light)} and starts a new encoder${cleared}`}>
          Use the light setup ({describeSetup(change.light)})
        </button>
      )}
      {fullSetup && (
        <>
          {!advice && <span>Light setup on.</span>}
          <button type="button" data-testid="device-full-setup" onClick={useFull} title={`Back to the settings you had before the light setup; starts a new encoder${cleared}`}>
            Back to the full setup ({describeSetup(fullSetup)})
          </button>
        </>
      )}
    </div>
  );
}
