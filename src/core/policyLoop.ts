/**
 * The state a policy decides with over a run, kept between requests: the predictor's recent
 * errors, the current choice, how many requests were decided and how many were explorations,
 * and the latest round of predictions. The engine keeps one per run and asks it before every
 * request, and the simulator (src/core/simulator.ts) runs the same loop, so that it stays a
 * faithful model of the app:
 *
 * - every candidate is priced at most every `predictEveryMs` (250 ms) for each pricing key (the
 *   request size, the slowdown, the lock to the throttle's clock, the candidate set, whether the
 *   uplink is known): a key not priced within that time is priced at once, and a key the loop
 *   comes back to within it reuses its round (at 8× an exit's requests flip between locked and
 *   free, and pricing ~150 candidates at every flip ran on the page's main thread per request);
 *   an exploration drops every round (what it measured changes the predictions);
 * - a round the next decision would find stale can be priced ahead of it (`prefetch`), while the
 *   request before waits for the link and the page's thread is idle: priced when the decision is
 *   due, it delays the request's start by the pricing's ~25-35 ms (live at 8×, every other
 *   request), and on a link in step with the throttle's clock that is time taken from the device
 *   work's deadline for the next tick;
 * - an exploration does not become the current choice;
 * - after each request, measured total ÷ predicted p90 − 1 joins the last 20 errors.
 */
import type { Candidate, Prediction, PredictionResult } from './costModel';
import { candidateId } from './costModel';
import type { CandidateView, Decision, Policy } from './policy';
import type { DecisionCandidate, RecordDecision } from './record';

export const PREDICT_EVERY_MS = 250;
/**
 * Whether the next round may be priced while a request predicted as `prediction` waits for the
 * link (`pricingMs`: what the last round took): when the wait's median is at least 1.5 × the
 * pricing (on a fast link the reply would come during the pricing and wait for it), and when a
 * reply held up by the whole pricing still meets the target at the request's predicted p90.
 */
export function mayPrefetch(prediction: Prediction, sloMs: number, pricingMs: number): boolean {
  return prediction.phases.uplinkMs >= 1.5 * pricingMs && prediction.p90Ms + pricingMs <= sloMs;
}
export const ERROR_WINDOW = 20;

export interface DecideContext {
  /** Time now (ms, any monotonic clock). */
  now: number;
  sloMs: number;
  candidates: readonly Candidate[];
  /** What the predictions depend on besides time and the uplink ("16|8×"): a change re-prices at once. */
  pricingKey: string;
  /** Prices the candidates (called only when the round is stale). */
  price: (candidates: readonly Candidate[]) => PredictionResult[];
  uplinkBps: number | null;
}

export interface Decided {
  decision: Decision;
  /** The decision as the record carries it. */
  record: RecordDecision;
  /** The chosen candidate's prediction in the round it was decided from. */
  prediction: PredictionResult | null;
}

interface Round {
  views: CandidateView[];
  recordCandidates: readonly DecisionCandidate[];
  pricedAt: number;
}

export class PolicyLoop {
  private readonly recentErrors: number[] = [];
  private current: string | null = null;
  private requests = 0;
  private explorations = 0;
  /** The newest round of predictions per pricing key. */
  private readonly rounds = new Map<string, Round>();

  constructor(
    readonly policy: Policy,
    private readonly accuracy: ReadonlyMap<string, number>,
    private readonly predictEveryMs = PREDICT_EVERY_MS,
  ) {}

  get name(): string {
    return this.policy.name;
  }

  /** Requests decided so far, and how many of them were explorations. */
  get counts(): { requests: number; explorations: number } {
    return { requests: this.requests, explorations: this.explorations };
  }

  /**
   * Prices the round the next decision will use, if it would be stale by then (`nextInMs` from
   * now): called while a request's device work runs, so that the next start does not wait for
   * the pricing. Returns whether it priced.
   */
  prefetch(context: DecideContext, nextInMs: number): boolean {
    const key = keyOf(context);
    const round = this.rounds.get(key);
    if (round && context.now + nextInMs - round.pricedAt < this.predictEveryMs) return false;
    this.price(key, context);
    return true;
  }

  decide(context: DecideContext): Decided {
    const key = keyOf(context);
    let round = this.rounds.get(key);
    if (!round || context.now - round.pricedAt >= this.predictEveryMs) round = this.price(key, context);
    const decision = this.policy.decide({
      sloMs: context.sloMs,
      candidates: round.views,
      recentErrors: this.recentErrors,
      current: this.current,
      uplinkBps: context.uplinkBps,
      requests: this.requests,
      explorations: this.explorations,
    });
    this.requests++;
    if (decision.exploring) {
      this.explorations++;
      this.rounds.clear();
    } else {
      this.current = decision.id;
    }
    const chosen = round.views.find((view) => view.id === decision.id);
    return {
      decision,
      prediction: chosen?.prediction ?? null,
      record: {
        policy: this.policy.name,
        candidate: decision.id,
        reason: decision.reason,
        sloMs: context.sloMs,
        predicted:
          decision.predictedMedianMs !== null && decision.predictedP90Ms !== null
            ? { medianMs: decision.predictedMedianMs, p90Ms: decision.predictedP90Ms }
            : null,
        expectedAccuracy: decision.expectedAccuracy,
        meetsSlo: decision.meetsSlo,
        exploring: decision.exploring,
        uplinkBps: context.uplinkBps,
        candidates: round.recordCandidates,
      },
    };
  }

  private price(key: string, context: DecideContext): Round {
    const predictions = context.price(context.candidates);
    const views = context.candidates.map((candidate, i) => {
      const id = candidateId(candidate);
      return {
        candidate,
        id,
        prediction: predictions[i]!,
        expectedAccuracy: this.accuracy.get(id) ?? null,
      };
    });
    // One array per round, shared by the records decided from it.
    const recordCandidates = Object.freeze(
      views.map((view) => ({
        id: view.id,
        medianMs: view.prediction.ok ? view.prediction.medianMs : null,
        p90Ms: view.prediction.ok ? view.prediction.p90Ms : null,
        expectedAccuracy: view.expectedAccuracy,
      })),
    );
    const round = { views, recordCandidates, pricedAt: context.now };
    this.rounds.delete(key);
    this.rounds.set(key, round);
    // A few keys alternate in a run; the oldest of more are dropped.
    if (this.rounds.size > 4) this.rounds.delete(this.rounds.keys().next().value!);
    return round;
  }

  /** What a request decided by `decision` measured: its error against the predicted p90. */
  observe(decision: Decision, totalMs: number): void {
    if (decision.predictedP90Ms === null || !(decision.predictedP90Ms > 0)) return;
    this.recentErrors.push(totalMs / decision.predictedP90Ms - 1);
    if (this.recentErrors.length > ERROR_WINDOW) this.recentErrors.shift();
  }
}

/**
 * The round a context decides from. Whether the uplink is known belongs in the key: a round
 * priced while it was unknown has only the device priced, and deciding from it once the estimate
 * is back ran the full model at 8× (260 ms, over a 150 ms target) after every outage in simulation.
 */
function keyOf(context: DecideContext): string {
  const uplink = context.uplinkBps === null ? 'uplink unknown' : 'uplink known';
  return `${context.pricingKey}|${uplink}|${context.candidates.map(candidateId).join(',')}`;
}
