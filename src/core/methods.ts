/**
 * The catalog of self-supervised methods: page-safe (no tfjs), read by the UI,
 * the config schema, the comparison presets and the worker. Each entry gives a
 * method's label, its paper, the settings it reads (declared here, merged into
 * the one config schema), the loss it reports, its metrics as named numbers
 * with units, and which instruments apply. The tfjs side of each method lives
 * in src/methods/<id>.ts; adding a method means its method file, its loss file
 * and its entry here.
 */
import { uniformGuessLoss } from './chance';
import { num, type FieldSpec } from './fields';
import { autoencoderEntry } from './entries/autoencoder';
import { autoregressiveEntry } from './entries/autoregressive';
import { cmcEntry } from './entries/cmc';
import { cpcEntry } from './entries/cpc';
import { deepclusterEntry } from './entries/deepcluster';
import { pirlEntry } from './entries/pirl';
import { colorizationEntry } from './pretext/colorization';
import { exemplarEntry } from './pretext/exemplar';
import { inpaintingEntry } from './pretext/inpainting';
import { jigsawEntry } from './pretext/jigsaw';
import { relativePatchEntry } from './pretext/relative-patch';
import { rotationEntry } from './pretext/rotation';

export const METHOD_IDS = [
  'simclr', 'memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins',
  'rotation', 'relative-patch', 'jigsaw', 'inpainting', 'colorization', 'exemplar',
  'cpc', 'cmc', 'pirl', 'autoencoder', 'autoregressive', 'deepcluster',
] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export function isMethodId(value: string): value is MethodId {
  return (METHOD_IDS as readonly string[]).includes(value);
}

/** The methods' own settings: part of the one experiment config (and its URL). */
export interface MethodSettings {
  /** MoCo: K, keys in the queue */
  queueSize: number;
  /** MoCo's key encoder and BYOL's target: θ_k ← m·θ_k + (1 − m)·θ_q */
  momentum: number;
  /** memory bank: v ← normalize(m·v + (1 − m)·f) */
  bankMomentum: number;
  /** Barlow Twins: weight λ of the off-diagonal (redundancy-reduction) term */
  barlowLambda: number;
  /** BYOL and SimSiam: hidden units of the predictor q */
  predictorHidden: number;
  /** SimSiam: stop-gradient on the target branch (off: it collapses) */
  stopGradient: boolean;
  /** BYOL: the predictor q on the online branch (off: it collapses) */
  usePredictor: boolean;
  /** BYOL: the target is an EMA of the online network (off: target = online, it collapses) */
  emaTarget: boolean;
  /** jigsaw: P, the permutations of the 3×3 tiles the network tells apart (a maximal-Hamming-distance set) */
  jigsawPermutations: number;
  /** inpainting: the masked region, the central square or a random square of the same size */
  inpaintMask: 'central' | 'random';
  /** colorization: the head regresses the ab channels (L2), or classifies them over quantized ab bins (Zhang et al.) */
  colorizationMode: 'regression' | 'classification';
  /** exemplar: K surrogate classes, the first K training images, each a class of its own augmentations */
  exemplarCount: number;
  /** PIRL: weight λ of the transformed image's term against the untransformed one's, λ L(m, f(I_t)) + (1 − λ) L(m, f(I)) */
  pirlLambda: number;
  /** autoencoder: corrupt the input with noise and rebuild the clean image (denoising autoencoder) */
  denoise: boolean;
  /** DeepCluster: k, the clusters of k-means over h */
  clusterCount: number;
  /** DeepCluster: steps between two k-means rounds (the paper re-clusters every epoch) */
  clusterEvery: number;
}

export const METHOD_SETTING_FIELDS: { [K in keyof MethodSettings]: FieldSpec } = {
  queueSize: num('queue', 'Queue size K', 'MoCo: how many past keys serve as negatives. Capped at the training set size.', 1, 65536, { integer: true, needsReset: true }),
  momentum: num('m', 'Momentum m', 'MoCo’s key encoder and BYOL’s target follow the online weights as θ ← m·θ + (1 − m)·θ_online. 0.99 suits short runs (MoCo uses 0.999, BYOL 0.996 over long ones).', 0, 1, { maxExclusive: true, step: 0.001 }),
  bankMomentum: num('bankM', 'Bank momentum', 'Memory bank: each entry becomes normalize(m·v + (1 − m)·f) when its image is in a batch (InstDisc’s proximal update uses 0.5).', 0, 1, { maxExclusive: true, step: 0.05 }),
  barlowLambda: num('lambda', 'Off-diagonal weight λ', 'Barlow Twins: weight of the redundancy term Σ_{i≠j} C_ij². The paper’s 0.005 is for d = 8192; 1/d keeps the two terms comparable at small d.', 0, 10, { minExclusive: true, step: 0.0001 }),
  predictorHidden: num('predHidden', 'Predictor hidden units', 'BYOL and SimSiam: width of the predictor q’s hidden layer.', 2, 2048, { integer: true, needsReset: true }),
  stopGradient: {
    kind: 'boolean', url: 'stopgrad', label: 'Stop-gradient on the target', needsReset: false,
    help: 'SimSiam: no gradient flows through the target branch z. Switch it off to watch the encoder collapse to a constant.',
  },
  usePredictor: {
    kind: 'boolean', url: 'predictor', label: 'Predictor q', needsReset: false,
    help: 'BYOL: the online branch predicts the target’s projection through q. Switch it off to watch it collapse.',
  },
  jigsawPermutations: num('perms', 'Permutations P', 'Jigsaw: how many orderings of the 3×3 tiles the network must tell apart, chosen greedily for maximal Hamming distance from each other (Noroozi & Favaro used 100 and 1000). Chance is 1/P.', 2, 100, { integer: true, needsReset: true }),
  inpaintMask: {
    kind: 'enum', url: 'mask', label: 'Masked region', needsReset: false,
    help: 'Inpainting: the region hidden from the encoder and predicted by the decoder: the central quarter of the image (Pathak et al.’s central mask), or a square of the same size at a random place.',
    options: [{ value: 'central', label: 'Central square' }, { value: 'random', label: 'Random square' }],
  },
  colorizationMode: {
    kind: 'enum', url: 'colour', label: 'Colour head', needsReset: true,
    help: 'Colorization: regress the a and b channels with an L2 loss, or classify each pixel’s ab over quantized bins with a cross-entropy as Zhang et al. do (L2 averages plausible colours into grey; the classifier can pick one).',
    options: [{ value: 'regression', label: 'Regression (L2 on ab)' }, { value: 'classification', label: 'Classification (ab bins)' }],
  },
  exemplarCount: num('exemplars', 'Exemplars K', 'Exemplar: how many training images become surrogate classes (the first K); each class is that image under heavy augmentation. Dosovitskiy et al. used 8,000 to 32,000.', 2, 65536, { integer: true, needsReset: true }),
  pirlLambda: num('pirlLambda', 'Transformed-view weight λ', 'PIRL: the loss is λ·NCE(bank, f(jigsaw(I))) + (1 − λ)·NCE(bank, f(I)); the paper uses λ = 0.5.', 0, 1, { step: 0.05 }),
  denoise: {
    kind: 'boolean', url: 'denoise', label: 'Denoising', needsReset: false,
    help: 'Autoencoder: corrupt the input with noise and ask for the clean image back (Vincent et al. 2008), so f cannot just copy pixels.',
  },
  clusterCount: num('clusters', 'Clusters k', 'DeepCluster: how many groups k-means makes of h; the paper over-clusters (10k for ImageNet’s 1,000 classes).', 2, 1000, { integer: true, needsReset: true }),
  clusterEvery: num('clusterEvery', 'Re-cluster every', 'DeepCluster: steps between two k-means rounds, after each of which the classifier head starts afresh (the paper re-clusters every epoch).', 1, 100000, { integer: true }),
  emaTarget: {
    kind: 'boolean', url: 'ema', label: 'Target = EMA of online', needsReset: false,
    help: 'BYOL: the target network is a slow moving average of the online one. Off: target = online (with stop-gradient), which collapses.',
  },
};

export const METHOD_SETTING_DEFAULTS: MethodSettings = {
  queueSize: 4096,
  momentum: 0.99,
  bankMomentum: 0.5,
  barlowLambda: 1 / 128,
  predictorHidden: 128,
  stopGradient: true,
  usePredictor: true,
  emaTarget: true,
  jigsawPermutations: 30,
  inpaintMask: 'central',
  colorizationMode: 'regression',
  exemplarCount: 256,
  pirlLambda: 0.5,
  denoise: false,
  clusterCount: 50,
  clusterEvery: 50,
};

/** How a metric's number reads. */
export type MetricUnit = 'fraction' | 'cosine' | 'logit' | 'rank' | 'steps' | 'number';

export interface MetricSpec {
  /** key in StepMetrics.values */
  key: string;
  label: string;
  unit: MetricUnit;
  help: string;
  /** data-testid of its tile in the metrics bar (UI contract ids where they exist) */
  testId: string;
}

/** Most rows and columns a method's own matrix sends to the page (MoCo shows its newest keys, the bank its first images, C its first dimensions). */
export const METHOD_MATRIX_MAX_SIDE = 128;

/** What a method's affinity view shows, or why it has none. */
export type MatrixKind =
  /** SimCLR: the 2N×2N similarity matrix of the batch's views */
  | 'batch-affinity'
  /** MoCo: queries against [their keys, the queue] */
  | 'query-keys'
  /** memory bank: the batch against the bank rows */
  | 'batch-bank'
  /** Barlow Twins: the d×d cross-correlation C */
  | 'cross-correlation'
  /** BYOL, SimSiam: no 2N×2N matrix; predictions of the first views against the targets of the second */
  | 'prediction-target'
  /** a pretext task: no matrix; its own instrument shows the task's inputs, the head's predictions and the truth (TaskSnapshot) */
  | 'task'
  /** no matrix at all */
  | 'none';

/**
 * The stops of a method's lecture-mode walkthrough, in order: the minibatch,
 * its two views, the encoders' outputs, the method's own matrix, its loss,
 * the optimizer update, and what the method updates after it.
 */
export const WALKTHROUGH_STAGES = ['batch', 'views', 'encode', 'matrix', 'loss', 'update', 'after-update'] as const;
export type WalkthroughStage = (typeof WALKTHROUGH_STAGES)[number];

/** One line of a method's Algorithm 1, in this app's notation. */
export interface AlgorithmLine {
  /** the statement, as pseudocode */
  line: string;
  /** a short comment shown after it (# …) */
  note?: string;
  /** the walkthrough stop that shows this line's numbers; absent for lines with nothing to show (input, end for) */
  stage?: WalkthroughStage;
  /** 1 inside the loop over minibatches */
  indent: 0 | 1;
  /** keys of StepMetrics.values this line's numbers are (the catalog's MetricSpec keys) */
  metrics?: string[];
}

/** The method menu's groups, as the lectures group the field. */
export const METHOD_FAMILIES = [
  { id: 'contrastive', label: 'Contrastive' },
  { id: 'non-contrastive', label: 'Non-contrastive' },
  { id: 'pretext', label: 'Pretext tasks' },
  { id: 'generative', label: 'Generative' },
  { id: 'clustering', label: 'Clustering' },
] as const;
export type MethodFamily = (typeof METHOD_FAMILIES)[number]['id'];

/** The settings a loss reference may read. */
export type ReferenceSettings = Partial<MethodSettings> & { batchSize: number; queueSize: number; projectionDim: number };

/** What a method needs to know of the dataset to say whether it fits. */
export interface DatasetShape {
  name: string;
  channels: 1 | 3;
  imageSize: number;
  trainCount: number;
}

/** The settings a fit rule may read. */
export type FitSettings = MethodSettings & { imageSize: number; batchSize: number };

export interface MethodEntry {
  id: MethodId;
  label: string;
  /** the menu's group */
  family: MethodFamily;
  /** one paragraph: what the method asks of the network and why that teaches it something */
  about: string;
  /**
   * Augmented views per image the trainer makes for a step: 2 (the default)
   * for the siamese methods, rows 0…N−1 t(x) and N…2N−1 t′(x); 1 for a
   * pretext task, which builds its own task inputs from t(x).
   */
  views?: 1 | 2;
  /**
   * Images f encodes per batch image, in full views (for the memory estimate):
   * 2 (the default) for two views, 4 for RotNet's four turns, less for tasks
   * that encode small tiles.
   */
  viewsEncoded?: number;
  /** input channels of f when the method fixes them (colorization: f sees lightness only); else the dataset's */
  encoderChannels?: 1;
  /**
   * Why the method cannot train on this dataset with these settings (a
   * sentence for the menu and the banner), or null when it can.
   */
  unfit?: (data: DatasetShape, settings: FitSettings) => string | null;
  /** it has a method file in src/methods and trains (the others describe what is coming) */
  available: boolean;
  /** one line: what it learns and how */
  summary: string;
  paper: { cite: string; title: string; url: string };
  /** config keys it reads besides the shared ones, in the order the settings panel shows them */
  settings: (keyof MethodSettings | 'temperature' | 'normalize' | 'fusedLoss')[];
  /** settings applied when a user picks this method (its paper's values at this scale) */
  defaults: Partial<MethodSettings & { temperature: number }>;
  lossName: string;
  lossHelp: string;
  metrics: MetricSpec[];
  matrix: MatrixKind;
  /** why there is no 2N×2N matrix, when there is none (shown above the method's own matrix) */
  matrixNote?: string;
  /** the Algorithm 1 walkthrough applies */
  walkthrough: boolean;
  /**
   * The method's Algorithm 1 as its paper writes it, in this app's notation and
   * with this app's choices; the walkthrough highlights it line by line.
   * SimCLR's is typeset in src/ui/StepThroughPanel.tsx, with a stop per line.
   */
  algorithm?: AlgorithmLine[];
  /**
   * The loss chart's horizontal line, for a method that declares it here (the
   * pretext tasks; the first six are in lossReference): its formula, its value
   * under the settings, and what it means.
   */
  reference?: { formula: string; value: (settings: ReferenceSettings, trainCount: number) => number | null; caption: string };
  /** switches that remove what prevents collapse, and what each teaches */
  collapseSwitches?: { setting: 'stopGradient' | 'usePredictor' | 'emaTarget'; explanation: string }[];
}

const positiveSimilarity: MetricSpec = {
  key: 'positiveSimilarity', label: 'positive sim', unit: 'cosine', testId: 'metric-pos-sim',
  help: 'Mean cosine similarity of the two views of the same image',
};
const negativeSimilarity: MetricSpec = {
  key: 'negativeSimilarity', label: 'negative sim', unit: 'cosine', testId: 'metric-neg-sim',
  help: 'Mean cosine similarity of views of different images',
};
const contrastiveAccuracy: MetricSpec = {
  key: 'contrastiveAccuracy', label: 'contrastive acc', unit: 'fraction', testId: 'metric-contrast-acc',
  help: 'Share of the anchors whose positive is their most similar candidate',
};

export const METHOD_CATALOG: Record<MethodId, MethodEntry> = {
  simclr: {
    id: 'simclr',
    available: true,
    label: 'SimCLR',
    summary: 'Two views of each image attract; every other view in the batch repels (NT-Xent over the 2N×2N similarity matrix).',
    family: 'contrastive',
    about: 'SimCLR makes two random augmentations of each image and trains f, through a small projection head g, so that each view picks out its partner among all 2N views of the batch (the NT-Xent loss, a softmax over cosine similarities at temperature τ). Everything it learns comes from what the augmentations leave unchanged: crops teach parts and scale, colour jitter keeps it from matching on colour histograms. Its negatives are the batch itself, so it wants large batches.',
    paper: { cite: 'Chen et al. 2020', title: 'A Simple Framework for Contrastive Learning of Visual Representations', url: 'https://arxiv.org/abs/2002.05709' },
    settings: ['temperature', 'normalize', 'fusedLoss'],
    defaults: { temperature: 0.5 },
    lossName: 'NT-Xent loss',
    lossHelp: 'Mean over the 2N anchors of −log softmax of the positive',
    metrics: [positiveSimilarity, negativeSimilarity, contrastiveAccuracy],
    matrix: 'batch-affinity',
    walkthrough: true,
  },
  'memory-bank': {
    id: 'memory-bank',
    available: true,
    label: 'Memory bank (InstDisc)',
    summary: 'Each image is its own class: its feature must pick out its own entry among a bank of one stored feature per training image.',
    family: 'contrastive',
    about: 'Instance discrimination treats every training image as its own class, but instead of a weight per class it keeps a memory bank: one stored, normalized feature per image, refreshed with a moving average whenever the image is drawn. The loss is a softmax over all n bank entries, so negatives are plentiful and cost no forward pass; the price is that most entries were written by an older encoder.',
    paper: { cite: 'Wu et al. 2018', title: 'Unsupervised Feature Learning via Non-Parametric Instance Discrimination', url: 'https://arxiv.org/abs/1805.01978' },
    settings: ['temperature', 'bankMomentum'],
    defaults: { temperature: 0.07 },
    lossName: 'bank softmax loss',
    lossHelp: 'Mean over the batch of −log of the non-parametric softmax over all n bank entries at the image’s own entry',
    metrics: [
      { key: 'positiveRank', label: 'positive’s rank', unit: 'rank', testId: 'metric-positive-rank', help: 'Mean rank of each image’s own bank entry among all n by similarity to its feature (0: its own entry is the nearest)' },
      { key: 'positiveSimilarity', label: 'own-entry sim', unit: 'cosine', testId: 'metric-bank-positive-sim', help: 'Mean cosine similarity of each feature with its own bank entry' },
      { key: 'bankWritten', label: 'bank visited', unit: 'fraction', testId: 'metric-bank-written', help: 'Share of the n bank entries written at least once (the rest are still the random vectors the bank starts with)' },
      { key: 'bankStaleness', label: 'bank staleness', unit: 'steps', testId: 'metric-bank-staleness', help: 'Mean steps since each written entry was last written: about one epoch (n / N steps) once the bank is full. Stale entries were made by an older encoder' },
    ],
    matrix: 'batch-bank',
    walkthrough: true,
    algorithm: [
      { indent: 0, line: 'input: n training images, bank V of n unit vectors, temperature τ, bank momentum m', note: 'V starts as random unit vectors' },
      { indent: 0, line: 'for sampled minibatch {x_b}, b = 0…N−1, with training indices i_b do', stage: 'batch' },
      { indent: 1, line: 'x̃ = t(x_b), t′(x_b)', note: 'two random augmentations of each image: 2N views', stage: 'views' },
      { indent: 1, line: 'v = normalize(g(f(x̃)))', note: '2N unit features', stage: 'encode' },
      { indent: 1, line: 's = v · Vᵀ', note: '2N × n: every view against every bank entry; shown: the batch’s own entries', stage: 'matrix' },
      { indent: 1, line: 'P(i_b | v) = exp(s_{b,i_b} / τ) / Σ_{j=1…n} exp(s_{b,j} / τ)', note: 'non-parametric softmax over all n entries', stage: 'loss', metrics: ['positiveRank', 'positiveSimilarity'] },
      { indent: 1, line: 'L = mean over the 2N views of −log P(i_b | v)', note: 'each image is its own class', stage: 'loss' },
      { indent: 1, line: 'update f and g by Adam to minimize L', note: 'V is not trained by the gradient', stage: 'update' },
      { indent: 1, line: 'V_{i_b} ← normalize(m · V_{i_b} + (1 − m) · (v_b + v′_b) / 2)', note: 'write the two views’ mean feature into the bank', stage: 'after-update', metrics: ['bankWritten', 'bankStaleness'] },
      { indent: 0, line: 'end for' },
    ],
  },
  moco: {
    id: 'moco',
    available: true,
    label: 'MoCo v2',
    summary: 'A query must match its key from a slowly moving key encoder against a queue of K past keys.',
    family: 'contrastive',
    about: 'MoCo keeps the negatives in a queue of the K most recent keys, encoded by a key encoder that follows the query encoder as a slow moving average (momentum m). The slow encoder keeps the queued keys consistent with each other, so the dictionary can be far larger than a batch. v2 adds SimCLR’s projection head and stronger augmentation.',
    paper: { cite: 'He et al. 2020; Chen et al. 2020 (v2)', title: 'Momentum Contrast for Unsupervised Visual Representation Learning', url: 'https://arxiv.org/abs/1911.05722' },
    settings: ['temperature', 'queueSize', 'momentum'],
    defaults: { temperature: 0.2 },
    lossName: 'InfoNCE loss',
    lossHelp: 'Mean over the queries of −log softmax of the positive key among [key, queue]',
    metrics: [
      { key: 'positiveLogit', label: 'positive logit', unit: 'logit', testId: 'metric-positive-logit', help: 'Mean q̂·k̂/τ of each query with its own key: rises as queries find their keys' },
      { key: 'negativeLogit', label: 'queue logit', unit: 'logit', testId: 'metric-queue-logit', help: 'Mean q̂·queue_j/τ over the queue’s K keys: the negatives’ logit, against which the positive must stand out' },
      { ...contrastiveAccuracy, help: 'Share of the queries whose own key beats every key in the queue' },
      { key: 'queueFill', label: 'queue fill', unit: 'fraction', testId: 'metric-queue-fill', help: 'Share of the K queue slots holding real keys (the rest are the random unit vectors it starts with)' },
      { key: 'keyDrift', label: 'key encoder drift', unit: 'number', testId: 'metric-key-drift', help: '‖θ_k − θ_q‖ / ‖θ_q‖: how far the momentum key encoder trails the query encoder. Small and steady: consistent keys in the queue' },
    ],
    matrix: 'query-keys',
    walkthrough: true,
    algorithm: [
      { indent: 0, line: 'input: queue of K keys, momentum m, temperature τ; f_q = (f, g), its key encoder f_k', note: 'the queue starts as random unit vectors' },
      { indent: 0, line: 'f_k.params = f_q.params', note: 'initialize, once, when the run starts' },
      { indent: 0, line: 'for sampled minibatch {x_b}, b = 0…N−1 do', stage: 'batch' },
      { indent: 1, line: 'x_q = t(x), x_k = t′(x)', note: 'a randomly augmented version for the query, another for the key', stage: 'views' },
      { indent: 1, line: 'q = f_q(x_q)', note: 'queries: N × d, batch norm over two halves', stage: 'encode' },
      { indent: 1, line: 'k = f_k(x_k).detach()', note: 'keys: N × d, no gradient; halves of a shuffled batch (shuffling BN)', stage: 'encode' },
      { indent: 1, line: 'l_{pos} = q̂ · k̂', note: 'N × 1, on unit vectors: each query with its own key', stage: 'matrix' },
      { indent: 1, line: 'l_{neg} = q̂ · queueᵀ', note: 'N × K: each query against the K queued keys', stage: 'matrix' },
      { indent: 1, line: 'logits = [l_{pos}, l_{neg}]', note: 'N × (1 + K)', stage: 'matrix' },
      { indent: 1, line: 'labels = 0', note: 'the positive is column 0', stage: 'loss' },
      { indent: 1, line: 'L = CrossEntropy(logits / τ, labels)', note: 'InfoNCE', stage: 'loss', metrics: ['positiveLogit', 'negativeLogit', 'contrastiveAccuracy'] },
      { indent: 1, line: 'update f_q by Adam to minimize L', note: 'f_k gets no gradient', stage: 'update' },
      { indent: 1, line: 'f_k.params = m · f_k.params + (1 − m) · f_q.params', note: 'momentum update', stage: 'after-update', metrics: ['keyDrift'] },
      { indent: 1, line: 'enqueue(queue, k̂); dequeue(queue)', note: 'FIFO: these N keys replace the oldest N', stage: 'after-update', metrics: ['queueFill'] },
      { indent: 0, line: 'end for' },
    ],
  },
  byol: {
    id: 'byol',
    available: true,
    label: 'BYOL',
    summary: 'The online network predicts a slow target network’s projection of the other view; no negatives at all.',
    family: 'non-contrastive',
    about: 'BYOL uses no negatives: an online network predicts, through a predictor q, the projection of the other view made by a target network that is a moving average of the online one. The predictor and the slow target are what keep it from mapping every image to one point; the switches below remove each and let you watch it collapse.',
    paper: { cite: 'Grill et al. 2020', title: 'Bootstrap Your Own Latent', url: 'https://arxiv.org/abs/2006.07733' },
    settings: ['momentum', 'predictorHidden', 'usePredictor', 'emaTarget'],
    defaults: {},
    lossName: 'BYOL loss',
    lossHelp: 'Symmetrized mean of 2 − 2·cos(q(z_online), z_target) over both view orders',
    metrics: [
      { key: 'predictionCosine', label: 'prediction cos', unit: 'cosine', testId: 'metric-prediction-cosine', help: 'Mean cosine of each online prediction with the target’s projection of the other view (loss = 2 − 2·this)' },
      { key: 'targetDrift', label: 'target drift', unit: 'number', testId: 'metric-target-drift', help: '‖ξ − θ‖ / ‖θ‖: how far the moving-average target trails the online network (0 when target = online)' },
    ],
    collapseSwitches: [
      { setting: 'usePredictor', explanation: 'Without the predictor q, BYOL collapses: every image maps to one point, the loss falls to 0 and the collapse meter to 0.' },
      { setting: 'emaTarget', explanation: 'With target = online (no moving average, only a stop-gradient), BYOL collapses as well.' },
    ],
    matrix: 'prediction-target',
    matrixNote: 'BYOL compares each view only with the other view of the same image: there are no negatives, so there is no 2N×2N matrix to score. Shown instead: each prediction against every target of the batch; the loss reads only the diagonal.',
    walkthrough: true,
    algorithm: [
      { indent: 0, line: 'input: online θ = (f, g, predictor q), target ξ = (f_ξ, g_ξ), EMA rate m', note: 'ξ starts as a copy of θ’s f and g' },
      { indent: 0, line: 'for sampled minibatch {x_b}, b = 0…N−1 do', stage: 'batch' },
      { indent: 1, line: 'v = t(x), v′ = t′(x)', note: 'two random augmentations of each image', stage: 'views' },
      { indent: 1, line: 'z = g(f(v, v′)),  p = q(z)', note: 'online projections and predictions of both views', stage: 'encode' },
      { indent: 1, line: 'z′ = g_ξ(f_ξ(v, v′))', note: 'target projections: no gradient reaches ξ', stage: 'encode' },
      { indent: 1, line: 'cos(p₁, z′₂),  cos(p₂, z′₁)', note: 'each view’s prediction against the target of the other view', stage: 'matrix' },
      { indent: 1, line: 'L = ½ [(2 − 2 cos(p₁, z′₂)) + (2 − 2 cos(p₂, z′₁))]', note: 'symmetrized: ‖p̂ − ẑ′‖² = 2 − 2 cos', stage: 'loss', metrics: ['predictionCosine'] },
      { indent: 1, line: 'θ ← Adam(θ, ∇_θ L)', note: 'only the online network learns', stage: 'update' },
      { indent: 1, line: 'ξ ← m · ξ + (1 − m) · θ', note: 'the target follows the online network slowly', stage: 'after-update', metrics: ['targetDrift'] },
      { indent: 0, line: 'end for' },
    ],
  },
  simsiam: {
    id: 'simsiam',
    available: true,
    label: 'SimSiam',
    summary: 'Like BYOL without the moving average: one network, a predictor, and a stop-gradient on the target branch.',
    family: 'non-contrastive',
    about: 'SimSiam shows that BYOL needs neither negatives nor a moving average: one network, a predictor on one branch and a stop-gradient on the other. Remove the stop-gradient and it collapses at once, which is the lecture’s evidence that the stop-gradient, not the architecture, prevents collapse.',
    paper: { cite: 'Chen & He 2021', title: 'Exploring Simple Siamese Representation Learning', url: 'https://arxiv.org/abs/2011.10566' },
    settings: ['predictorHidden', 'stopGradient'],
    defaults: {},
    lossName: 'negative cosine',
    lossHelp: 'Symmetrized −cos(p, stopgrad(z)) over both view orders: −1 when the predictions match',
    metrics: [],
    collapseSwitches: [
      { setting: 'stopGradient', explanation: 'Without the stop-gradient, SimSiam collapses at once: every image maps to the same output, the loss hits −1 and the collapse meter drops to 0.' },
    ],
    matrix: 'prediction-target',
    matrixNote: 'SimSiam compares each view only with the other view of the same image: there are no negatives, so there is no 2N×2N matrix to score. Shown instead: each prediction against every target of the batch; the loss reads only the diagonal.',
    walkthrough: true,
    algorithm: [
      { indent: 0, line: 'input: f, g and predictor q, one network', note: 'no target network, no negatives' },
      { indent: 0, line: 'for x in loader do', note: 'a minibatch of N images', stage: 'batch' },
      { indent: 1, line: 'x₁, x₂ = t(x), t′(x)', note: 'random augmentation', stage: 'views' },
      { indent: 1, line: 'z₁, z₂ = g(f(x₁)), g(f(x₂))', note: 'projections, N × d', stage: 'encode' },
      { indent: 1, line: 'p₁, p₂ = q(z₁), q(z₂)', note: 'predictions, N × d', stage: 'encode' },
      { indent: 1, line: 'D(p, z) = −cos(p, z.detach())', note: 'stop-gradient: z is a constant target', stage: 'matrix' },
      { indent: 1, line: 'L = D(p₁, z₂) / 2 + D(p₂, z₁) / 2', note: 'symmetrized negative cosine', stage: 'loss' },
      { indent: 1, line: 'update f, g, q by Adam to minimize L', stage: 'update' },
      { indent: 1, line: '(nothing else)', note: 'no moving average, no queue: the update is the whole step', stage: 'after-update' },
      { indent: 0, line: 'end for' },
    ],
  },
  'barlow-twins': {
    id: 'barlow-twins',
    available: true,
    label: 'Barlow Twins',
    summary: 'The cross-correlation of the two views’ embeddings is pushed to the identity: invariant and non-redundant features.',
    family: 'non-contrastive',
    about: 'Barlow Twins computes the cross-correlation matrix C between the two views’ standardized embeddings over the batch and pushes it to the identity: the diagonal to 1 (each feature invariant to the augmentation) and the off-diagonal to 0 (features not redundant with each other). It needs neither negatives nor asymmetry.',
    paper: { cite: 'Zbontar et al. 2021', title: 'Barlow Twins: Self-Supervised Learning via Redundancy Reduction', url: 'https://arxiv.org/abs/2103.03230' },
    settings: ['barlowLambda'],
    defaults: {},
    lossName: 'Barlow Twins loss',
    lossHelp: 'Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij² over the d×d cross-correlation C of the standardized embeddings',
    metrics: [
      { key: 'onDiagonal', label: 'invariance term', unit: 'number', testId: 'metric-barlow-on-diagonal', help: 'Σ_i (1 − C_ii)²: 0 when every feature agrees across the two views; about d for an untrained encoder' },
      { key: 'offDiagonal', label: 'redundancy term', unit: 'number', testId: 'metric-barlow-off-diagonal', help: 'Σ_{i≠j} C_ij² (before λ): 0 when the features are decorrelated' },
    ],
    matrix: 'cross-correlation',
    walkthrough: true,
    algorithm: [
      { indent: 0, line: 'input: f, g, off-diagonal weight λ', note: 'no negatives, no predictor, no moving average' },
      { indent: 0, line: 'for x in loader do', note: 'a minibatch of N images', stage: 'batch' },
      { indent: 1, line: 'y_A, y_B = t(x), t′(x)', note: 'two randomly augmented versions of x', stage: 'views' },
      { indent: 1, line: 'z_A, z_B = g(f(y_A)), g(f(y_B))', note: 'N × d', stage: 'encode' },
      { indent: 1, line: 'ẑ_A = (z_A − mean(z_A, 0)) / std(z_A, 0)', note: 'standardize each feature over the batch; likewise ẑ_B', stage: 'matrix' },
      { indent: 1, line: 'c = ẑ_Aᵀ ẑ_B / N', note: 'd × d cross-correlation', stage: 'matrix' },
      { indent: 1, line: 'c_{diff} = (c − I)²;  off-diagonal of c_{diff} × λ', note: 'identity target', stage: 'loss' },
      { indent: 1, line: 'L = Σ_i (1 − c_{ii})² + λ Σ_{i≠j} c_{ij}²', note: 'invariance + λ · redundancy reduction', stage: 'loss', metrics: ['onDiagonal', 'offDiagonal'] },
      { indent: 1, line: 'update f and g by Adam to minimize L', stage: 'update' },
      { indent: 1, line: '(nothing else)', note: 'no moving average, no queue: the update is the whole step', stage: 'after-update' },
      { indent: 0, line: 'end for' },
    ],
  },
  rotation: rotationEntry,
  'relative-patch': relativePatchEntry,
  jigsaw: jigsawEntry,
  inpainting: inpaintingEntry,
  colorization: colorizationEntry,
  exemplar: exemplarEntry,
  cpc: cpcEntry,
  cmc: cmcEntry,
  pirl: pirlEntry,
  autoencoder: autoencoderEntry,
  autoregressive: autoregressiveEntry,
  deepcluster: deepclusterEntry,
};

/** Why `id` cannot train on this dataset with these settings, or null when it can (the catalog's fit rule). */
export function methodUnfitReason(id: MethodId, data: DatasetShape, settings: FitSettings): string | null {
  return METHOD_CATALOG[id].unfit?.(data, settings) ?? null;
}

export interface MethodMenuOption {
  value: MethodId;
  label: string;
  /** why it cannot be picked on this dataset (the fit rule's sentence), or absent when it can */
  reason?: string;
  /** the same in a few words, for the option's own text (the menu stays as narrow as its labels) */
  note?: string;
}

/**
 * The method menu: the catalog grouped by family in the lectures' order, each
 * method with the reason it cannot be picked on this dataset, if any. Without
 * a dataset yet, only unimplemented methods are held back.
 */
export function methodMenu(data: DatasetShape | null, settings: FitSettings): { label: string; options: MethodMenuOption[] }[] {
  return METHOD_FAMILIES.map((family) => ({
    label: family.label,
    options: METHOD_IDS.filter((id) => METHOD_CATALOG[id].family === family.id).map((id): MethodMenuOption => {
      const entry = METHOD_CATALOG[id];
      const reason = data ? methodUnfitReason(id, data, settings) ?? undefined : undefined;
      return { value: id, label: entry.label, reason, note: reason === undefined ? undefined : 'not for this dataset' };
    }),
  })).filter((group) => group.options.length > 0);
}

/** The methods that train today (the others are listed for what is coming). */
export function methodTrains(id: MethodId): boolean {
  return METHOD_CATALOG[id].available;
}

/**
 * A horizontal reference on the loss chart, where the method has one:
 * SimCLR's uniform guess log(2N − 1), MoCo's log(K + 1) at the start, the
 * bank's log n, Barlow Twins' d (the on-diagonal term of an untrained C ≈ 0).
 */
export function lossReference(
  id: MethodId, config: ReferenceSettings, trainCount: number,
): { value: number; label: string } | null {
  const line = (value: number, formula: string) => ({ value, label: `${formula} = ${value.toFixed(2)}` });
  const declared = METHOD_CATALOG[id].reference;
  if (declared) {
    const value = declared.value(config, trainCount);
    return value === null || !Number.isFinite(value) ? null : line(value, declared.formula);
  }
  switch (id) {
    case 'simclr':
      return line(uniformGuessLoss(config.batchSize), 'log(2N − 1)');
    case 'moco':
      return line(Math.log(Math.min(config.queueSize, trainCount) + 1), 'log(K + 1)');
    case 'memory-bank':
      return trainCount > 0 ? line(Math.log(trainCount), 'log n') : null;
    case 'barlow-twins':
      return line(config.projectionDim, 'd');
    case 'byol':
      return line(2, '2 − 2·cos 90°');
    case 'simsiam':
      return line(-1, 'perfect agreement');
    default:
      return null;
  }
}

export const METHOD_FIELD: FieldSpec = {
  kind: 'enum', url: 'method', label: 'Method', needsReset: true,
  help: 'The self-supervised objective that trains the encoder f. Every method is judged by the same probes.',
  // only the methods that train are offered; the rest of the catalog describes what is coming
  options: METHOD_IDS.filter(methodTrains).map((id) => ({ value: id, label: METHOD_CATALOG[id].label })),
};
