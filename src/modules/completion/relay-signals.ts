import { completionResult, type PushDefinition, type z } from '../../../libs/client/src';

export type RequestPush = PushDefinition<string, z.ZodType<{ request_id: string }>>;

/** A relayed push, as one NOTIFY payload; a result travels as a reference (it may be larger than NOTIFY takes). */
export interface Relay {
  event: string;
  payload?: { request_id: string };
  result_of?: string;
  final: boolean;
}

/** PostgreSQL refuses NOTIFY payloads from 8000 bytes. */
const MAX_SIGNAL_BYTES = 7_900;
/** The most characters of text one signal carries; fewer when escaping and UTF-8 make them too many bytes. */
const MAX_PIECE = 1_900;
/** An error's sentence is cut after this many characters (the request's record keeps it whole). */
const MAX_ERROR = 2_000;

const fits = (relay: Relay): boolean => Buffer.byteLength(JSON.stringify(relay)) < MAX_SIGNAL_BYTES;

/** A push as the signals that carry it: itself when it fits; a result by reference; long streamed text in pieces; a long error cut. */
export function signalsOf(definition: RequestPush, payload: { request_id: string }, final: boolean): Relay[] {
  const whole: Relay = { event: definition.name, payload, final };
  if (fits(whole)) return [whole];
  if (definition === completionResult) return [{ event: definition.name, result_of: payload.request_id, final }];
  const withText = (field: 'delta' | 'error', text: string): Relay => ({ event: definition.name, payload: { ...payload, [field]: text }, final });
  const { delta, error } = payload as { delta?: unknown; error?: unknown };
  if (typeof delta === 'string') return piecesOf(delta, (piece) => withText('delta', piece));
  if (typeof error === 'string') return piecesOf(error.slice(0, MAX_ERROR), (piece) => withText('error', `${piece}…`)).slice(0, 1);
  return [whole];
}

/** The signals of `text` in order, each with as much of it as fits, never cut inside a surrogate pair. */
function piecesOf(text: string, signalOf: (piece: string) => Relay): Relay[] {
  const signals: Relay[] = [];
  for (let at = 0; at < text.length; ) {
    for (let size = MAX_PIECE; ; size = Math.ceil(size / 2)) {
      let end = Math.min(at + size, text.length);
      if (end < text.length && end - at > 1 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
      const signal = signalOf(text.slice(at, end));
      // Two characters always fit, unless the rest of the push does not: then NOTIFY refuses it, and says so.
      if (fits(signal) || end - at <= 2) {
        signals.push(signal);
        at = end;
        break;
      }
    }
  }
  return signals;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
