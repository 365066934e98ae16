import { parseMessage, type Validation } from '../../shared/protocol/parse-message.js';
import type { RejectCode } from '../../shared/protocol/reject-codes.js';
import type { LimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import type { IngestSource, OnSettled, Queue } from '../buffer/queue.js';
import type { IngestMetrics } from './ingest-metrics.js';
import type { Quarantine } from '../spool/quarantine.js';

export interface Intake {
  /**
   * Validates one raw message and offers it to the queue; false when rejected (then `onSettled`
   * never runs). `cutOff`: the line ended without its newline because the client stopped (or we
   * closed it) mid-message: if it is not valid JSON it counts as `incomplete`, not `invalid_json`,
   * so that counter keeps meaning corruption.
   */
  handle(raw: Buffer, source: IngestSource, onSettled?: OnSettled, cutOff?: boolean): boolean;
  /** A message that cannot even be read whole (oversized, cut off): counted, sampled, logged. */
  reject(code: RejectCode, sample: Buffer, source: IngestSource): void;
}

/** The one path from every source into the queue, so all sources count and reject alike. */
export function createIntake(queue: Pick<Queue, 'offer'>, metrics: IngestMetrics, quarantine: Pick<Quarantine, 'sample'>, logLimited: LimitedLog, validation: Validation = 'structural'): Intake {
  function reject(code: RejectCode, sample: Buffer, source: IngestSource): void {
    metrics.rejected(code);
    if (quarantine.sample(code, sample)) metrics.quarantined('message_sample');
    logLimited(`reject:${code}`, { source, bytes: sample.length }, `rejected a message: ${code}`);
  }
  return {
    handle(raw, source, onSettled, cutOff = false) {
      const outcome = parseMessage(raw, validation);
      if (outcome.kind === 'rejected') {
        reject(cutOff && outcome.code === 'invalid_json' ? 'incomplete' : outcome.code, raw, source);
        return false;
      }
      if (outcome.filledDefaults) metrics.defaultsFilled();
      queue.offer(outcome.bytes, source, onSettled);
      return true;
    },
    reject,
  };
}
