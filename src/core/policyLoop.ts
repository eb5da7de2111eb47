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
 * - an exploration does not become the current choice;
 * - after each request, measured total ÷ predicted p90 − 1 joins the last 20 errors.
 */
import type { Candidate, PredictionResult } from './costModel';
import { candidateId } from './costModel';
import type { CandidateView, Decision, Policy } from './policy';
import type { DecisionCandidate, RecordDecision } from './record';

export const PREDICT_EVERY_MS = 250;
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
}

export class PolicyLoop {
  private readonly recentErrors: number[] = [];
  private current: string | null = null;
  private requests = 0;
  private explorations = 0;
  /** The newest round of predictions per pricing key. */
  private readonly rounds = new Map<
    string,
    { views: CandidateView[]; recordCandidates: readonly DecisionCandidate[]; pricedAt: number }
  >();

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

  decide(context: DecideContext): Decided {
    // Whether the uplink is known belongs in the key: a round priced while it was unknown has only
    // the device priced, and deciding from it once the estimate is back ran the full model at 8×
    // (260 ms, over a 150 ms target) after every outage in simulation.
    const uplink = context.uplinkBps === null ? 'uplink unknown' : 'uplink known';
    const key = `${context.pricingKey}|${uplink}|${context.candidates.map(candidateId).join(',')}`;
    let round = this.rounds.get(key);
    if (!round || context.now - round.pricedAt >= this.predictEveryMs) {
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
      round = { views, recordCandidates, pricedAt: context.now };
      this.rounds.delete(key);
      this.rounds.set(key, round);
      // A few keys alternate in a run; the oldest of more are dropped.
      if (this.rounds.size > 4) this.rounds.delete(this.rounds.keys().next().value!);
    }
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
    return {
      decision,
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

  /** What a request decided by `decision` measured: its error against the predicted p90. */
  observe(decision: Decision, totalMs: number): void {
    if (decision.predictedP90Ms === null || !(decision.predictedP90Ms > 0)) return;
    this.recentErrors.push(totalMs / decision.predictedP90Ms - 1);
    if (this.recentErrors.length > ERROR_WINDOW) this.recentErrors.shift();
  }
}
