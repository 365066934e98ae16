import type { GelfTcpOptions } from './gelf/gelf-tcp.js';
import { createGelfTcpSink } from './gelf/gelf-tcp.js';
import type { GelfUdpOptions } from './gelf/gelf-udp.js';
import { createGelfUdpSink } from './gelf/gelf-udp.js';
import type { OtlpSinkOptions } from './otlp/otlp-sink.js';
import { createOtlpSink } from './otlp/otlp-sink.js';
import type { Sink } from './sink.js';

/**
 * A sink described as plain data (structured-clonable), so the export thread can build it:
 * TLS material travels as Buffers, callbacks as messages back (sink-thread.ts).
 */
export type SinkSpec =
  | { kind: 'gelf-tcp'; options: GelfTcpOptions }
  | { kind: 'gelf-udp'; options: GelfUdpOptions }
  | { kind: 'otlp'; options: Omit<OtlpSinkOptions, 'onRejectedSpans'> };

export interface SinkHooks {
  /** The collector refused spans in a partial success (OTLP); they are not resent. */
  onRejectedSpans(count: number, message: string): void;
}

export function buildSink(spec: SinkSpec, hooks: SinkHooks): Sink {
  if (spec.kind === 'gelf-tcp') return createGelfTcpSink(spec.options);
  if (spec.kind === 'gelf-udp') return createGelfUdpSink(spec.options);
  return createOtlpSink({ ...spec.options, onRejectedSpans: hooks.onRejectedSpans });
}
