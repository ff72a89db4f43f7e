/**
 * Linear evaluation protocol (SimCLR, Chen et al. 2020, §4 / Appendix B.5;
 * originally Zhang et al. 2016, Kolesnikov et al. 2019): freeze the encoder,
 * train a linear classifier on its representations h, and report test
 * accuracy. Here the classifier is multinomial logistic regression
 *   p(y | x) = softmax(x̂ W + b),  x̂ = (x - μ_train) / σ_train
 * fitted full-batch with Adam on
 *   L(W, b) = mean_i CE(onehot(y_i), x̂_i W + b) + l2 · ‖W‖².
 * The step size follows a cosine decay to 0, η_t = η·(1 + cos(π t / T))/2, so
 * the iterates settle at the optimum rather than circling it at a fixed step;
 * the result reports ‖∇L‖ at the end, so a caller can see it converged.
 */
import * as tf from '@tensorflow/tfjs';
import { runsOnArrays, type ComputeOn } from './devicePolicy';
import { fitLinearProbeArrays } from './linearProbeArrays';
import { validateLabels } from './validate';

export interface ProbeOptions {
  /** Full-batch iterations. */
  epochs: number;
  /** Adam learning rate. */
  learningRate: number;
  /** Weight of the l2 penalty l2·‖W‖² (the bias is not penalised). */
  l2: number;
  /** Called every few iterations with the iterations done, once the device has finished them. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Where the fit runs: 'tensors' (tfjs ops on the backend), 'arrays' (plain
   * float64 JavaScript on the read-back features, linearProbeArrays.ts), or
   * 'auto' (the default): arrays when the fit is small or the device is a CPU
   * emulation (devicePolicy.ts), tensors otherwise.
   */
  fitOn?: ComputeOn;
}

export interface ProbeResult {
  testAccuracy: number;
  trainAccuracy: number;
  /** ‖∇_{W,b} L‖ at the final iterate: near 0 when the fit converged */
  gradientNorm: number;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = { epochs: 300, learningRate: 0.05, l2: 1e-4 };

/** Iterations between yields to the event loop, so a worker stays responsive to messages. */
const YIELD_EVERY = 50;
/** Floor on the per-feature std: constant features become 0 rather than NaN. */
const STD_FLOOR = 1e-6;

/** Multinomial logistic regression on standardized features: fit on (trainFeatures, trainLabels), report accuracy on the test split.
 * Standardize with the TRAIN split's per-feature mean and std (std floored at 1e-6), apply the same to test. */
export async function fitLinearProbe(
  trainFeatures: tf.Tensor2D,
  trainLabels: Int32Array,
  testFeatures: tf.Tensor2D,
  testLabels: Int32Array,
  numClasses: number,
  opts: Partial<ProbeOptions> = {},
): Promise<ProbeResult> {
  const options: ProbeOptions = { ...DEFAULT_PROBE_OPTIONS, ...opts };
  if (trainFeatures.rank !== 2 || testFeatures.rank !== 2) throw new Error('features must be rank-2 [n, d] tensors');
  const [nTrain, d] = trainFeatures.shape;
  const [nTest, dTest] = testFeatures.shape;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error(`numClasses must be an integer ≥ 2, got ${numClasses}`);
  if (d !== dTest) throw new Error(`train features have ${d} dims but test features have ${dTest}`);
  if (d < 1) throw new Error('features must have at least one dimension');
  if (trainLabels.length !== nTrain) throw new Error(`${nTrain} train feature rows but ${trainLabels.length} train labels`);
  if (testLabels.length !== nTest) throw new Error(`${nTest} test feature rows but ${testLabels.length} test labels`);
  if (nTrain < 1) throw new Error('the train split is empty');
  if (nTest < 1) throw new Error('the test split is empty');
  validateLabels(trainLabels, numClasses, 'train');
  validateLabels(testLabels, numClasses, 'test');
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw new Error(`epochs must be a non-negative integer, got ${options.epochs}`);
  if (!(options.learningRate > 0)) throw new Error(`learningRate must be positive, got ${options.learningRate}`);
  if (!(options.l2 >= 0)) throw new Error(`l2 must be non-negative, got ${options.l2}`);

  // Standardization and one-hot targets, kept across iterations (disposed in finally).
  // n·d·K multiply-adds a pass, forward and backward, every iteration
  if (runsOnArrays(options.fitOn, 2 * nTrain * d * numClasses * options.epochs)) {
    const [train, test] = await Promise.all([trainFeatures.data(), testFeatures.data()]);
    return fitLinearProbeArrays({ values: train, n: nTrain, d }, trainLabels, { values: test, n: nTest, d }, testLabels, numClasses, options);
  }

  const [xTrain, xTest, yTrainOneHot, yTrain, yTest] = tf.tidy(() => {
    const { mean, variance } = tf.moments(trainFeatures, 0, true);
    const std = tf.maximum(tf.sqrt(variance), STD_FLOOR);
    const standardize = (x: tf.Tensor2D) => tf.div(tf.sub(x, mean), std) as tf.Tensor2D;
    const yTr = tf.tensor1d(trainLabels, 'int32');
    return [
      standardize(trainFeatures),
      standardize(testFeatures),
      tf.oneHot(yTr, numClasses).toFloat() as tf.Tensor2D,
      yTr,
      tf.tensor1d(testLabels, 'int32'),
    ] as const;
  });

  // Zero init: the objective is convex, so the start point does not change the
  // optimum and zeros make the fit deterministic without an rng.
  // (Inside tidy so the zeros initial values are freed; variables survive tidy.)
  const W = tf.tidy(() => tf.variable(tf.zeros([d, numClasses]) as tf.Tensor2D, true));
  const b = tf.tidy(() => tf.variable(tf.zeros([numClasses]) as tf.Tensor1D, true));
  const optimizer = tf.train.adam(options.learningRate);
  const objective = () => {
    const logits = tf.add(tf.matMul(xTrain, W), b);
    const ce = tf.losses.softmaxCrossEntropy(yTrainOneHot, logits);
    return tf.add(ce, tf.mul(options.l2, tf.sum(tf.square(W)))) as tf.Scalar;
  };

  try {
    options.onProgress?.(0, options.epochs);
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      // cosine decay of Adam's step size (tfjs reads learningRate at each update)
      (optimizer as unknown as { learningRate: number }).learningRate =
        options.learningRate * 0.5 * (1 + Math.cos((Math.PI * epoch) / options.epochs));
      // minimize runs inside its own tidy; returnCost=false so nothing escapes.
      optimizer.minimize(objective, false, [W, b]);
      if ((epoch + 1) % YIELD_EVERY === 0) {
        // iterations queued so far (a read-back here to count finished ones stalled the probe on SwiftShader)
        options.onProgress?.(epoch + 1, options.epochs);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
    const gradNorm = tf.tidy(() => {
      const { grads } = tf.variableGrads(objective, [W, b]);
      return tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    });

    // Accuracy = mean(argmax(x̂W + b) == y), reduced on the device; only two scalars come back.
    const accuracy = (x: tf.Tensor2D, y: tf.Tensor1D) =>
      tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(tf.add(tf.matMul(x, W), b), 1), y), 'float32')));
    const trainAcc = accuracy(xTrain, yTrain);
    const testAcc = accuracy(xTest, yTest);
    try {
      const [train, test, norm] = await Promise.all([trainAcc.data(), testAcc.data(), gradNorm.data()]);
      return { trainAccuracy: train[0], testAccuracy: test[0], gradientNorm: norm[0] };
    } finally {
      tf.dispose([trainAcc, testAcc, gradNorm]);
    }
  } finally {
    optimizer.dispose();
    tf.dispose([W, b, xTrain, xTest, yTrainOneHot, yTrain, yTest]);
  }
}
