/**
 * What each client believes became of each profile it sent. The soak run's invariant is checked
 * against this and against what the listener stored.
 */
export type Outcome =
  /** the daemon acknowledged it as safe */
  | 'acked'
  /** the daemon answered that its spool policy dropped it (counted there) */
  | 'acked_dropped'
  /** the daemon answered that it refused it as invalid */
  | 'acked_rejected'
  /** no acknowledgement in time: the client wrote its inbox file */
  | 'inbox'
  /** no acknowledgement and the inbox file could not be written either (full disk): the client gave up, counted */
  | 'client_dropped';

export interface Ledger {
  record(id: string, outcome: Outcome): void;
  outcomes(): ReadonlyMap<string, Outcome>;
  counts(): Record<Outcome, number>;
}

export function createLedger(): Ledger {
  const byId = new Map<string, Outcome>();
  return {
    record(id, outcome) {
      if (byId.has(id)) throw new Error(`soak: ${id} recorded twice`);
      byId.set(id, outcome);
    },
    outcomes: () => byId,
    counts() {
      const c: Record<Outcome, number> = { acked: 0, acked_dropped: 0, acked_rejected: 0, inbox: 0, client_dropped: 0 };
      for (const o of byId.values()) c[o]++;
      return c;
    },
  };
}

export interface Verdict {
  sent: number;
  stored: number;
  /** acknowledged as safe, or handed to the inbox, and not stored: must be 0 */
  lost: string[];
  /** counted as dropped (by the daemon or the client) but stored anyway: the drop counter lied */
  droppedButStored: string[];
  /** stored but never sent by a soak client (first ids) */
  unknownStored: string[];
}

export function verdict(ledger: Ledger, stored: ReadonlySet<string>): Verdict {
  const lost: string[] = [];
  const droppedButStored: string[] = [];
  for (const [id, outcome] of ledger.outcomes()) {
    const kept = stored.has(id);
    if ((outcome === 'acked' || outcome === 'inbox') && !kept) lost.push(id);
    if ((outcome === 'acked_dropped' || outcome === 'acked_rejected') && kept) droppedButStored.push(id);
  }
  const unknownStored: string[] = [];
  for (const id of stored) if (!ledger.outcomes().has(id)) unknownStored.push(id);
  return { sent: ledger.outcomes().size, stored: stored.size, lost, droppedButStored, unknownStored };
}
