/**
 * The pure parts of a method's walkthrough listing (MethodWalkthrough.tsx):
 * which lines belong to which stop, the pseudocode's subscripts, and how a
 * metric's number reads. Numbers and strings in, numbers and strings out.
 */
import { METHOD_CATALOG, type AlgorithmLine, type MethodId, type MetricSpec, type WalkthroughStage } from '../core/methods';
import { methodStages } from '../state/walkthroughStore';
import { fixed, percent } from './format';

/** the siamese methods other than SimCLR (typeset in StepThroughPanel): the pretext tasks have no Algorithm 1 walkthrough */
export type WalkthroughMethodId = 'memory-bank' | 'moco' | 'byol' | 'simsiam' | 'barlow-twins';
const WALKTHROUGH_METHODS: readonly MethodId[] = ['memory-bank', 'moco', 'byol', 'simsiam', 'barlow-twins'];

export function isWalkthroughMethod(id: MethodId): id is WalkthroughMethodId {
  return WALKTHROUGH_METHODS.includes(id);
}

/** A method's listing with, per line, its stop (−1: none) and whether the stop's numbers sit under it (its stage's last line). */
export interface ListingLine extends AlgorithmLine {
  stop: number;
  showsDetail: boolean;
}

export function methodListing(id: WalkthroughMethodId): ListingLine[] {
  const lines = METHOD_CATALOG[id].algorithm ?? [];
  const stages = methodStages(id);
  const lastLine = new Map<WalkthroughStage, number>();
  lines.forEach((line, k) => {
    if (line.stage) lastLine.set(line.stage, k);
  });
  return lines.map((line, k) => ({
    ...line,
    stop: line.stage ? stages.indexOf(line.stage) : -1,
    showsDetail: line.stage !== undefined && lastLine.get(line.stage) === k,
  }));
}

/** The metric specs a stage's lines name, in the catalog's order for the method. */
export function stageMetrics(id: WalkthroughMethodId, stage: WalkthroughStage): MetricSpec[] {
  const entry = METHOD_CATALOG[id];
  const keys = new Set((entry.algorithm ?? []).filter((line) => line.stage === stage).flatMap((line) => line.metrics ?? []));
  return entry.metrics.filter((spec) => keys.has(spec.key));
}

/** A piece of typeset pseudocode: text, or a subscript of pieces. */
export type Piece = string | { sub: Piece[] };

/**
 * Pseudocode with its subscripts: `x_q` and `f_ξ` (one letter or digit) and
 * `l_{pos}`, `V_{i_b}` (braces, nested) become subscripts; the rest stays text.
 */
export function typeset(text: string): Piece[] {
  const pieces: Piece[] = [];
  let plain = '';
  let k = 0;
  while (k < text.length) {
    const c = text[k];
    if (c === '_' && k + 1 < text.length) {
      if (text[k + 1] === '{') {
        let depth = 1;
        let end = k + 2;
        for (; end < text.length && depth > 0; end++) {
          if (text[end] === '{') depth++;
          else if (text[end] === '}') depth--;
        }
        if (depth === 0) {
          if (plain) pieces.push(plain);
          plain = '';
          pieces.push({ sub: typeset(text.slice(k + 2, end - 1)) });
          k = end;
          continue;
        }
      } else {
        const next = String.fromCodePoint(text.codePointAt(k + 1)!);
        if (/^[\p{L}\p{N}]$/u.test(next)) {
          if (plain) pieces.push(plain);
          plain = '';
          pieces.push({ sub: [next] });
          k += 1 + next.length;
          continue;
        }
      }
    }
    plain += c;
    k++;
  }
  if (plain) pieces.push(plain);
  return pieces;
}

/** A metric's number as its unit reads: fractions in percent, ranks and steps to one decimal, the rest to three. */
export function metricText(unit: MetricSpec['unit'], value: number | undefined): string {
  if (value === undefined) return '—';
  const text = unit === 'fraction' ? percent(value) : fixed(value, unit === 'rank' || unit === 'steps' ? 1 : 3);
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}
