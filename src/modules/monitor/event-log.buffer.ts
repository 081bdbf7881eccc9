export interface BufferLimits {
  /** Bytes of events recorded and not yet committed (waiting, or in batches sent to the writer). */
  maxBytes: number;
  /** A batch is ready at this many rows... */
  batchRows: number;
  /** ...or at this many bytes. */
  batchBytes: number;
  /** Batches sent to the writer and not yet answered; a ready batch waits while this many are out. */
  maxBatchesInFlight: number;
}

/** Rows taken to be sent to the writer: `rows` is flat, as the writer takes it (event-log.protocol.ts). */
export interface Batch {
  rows: unknown[];
  count: number;
  bytes: number;
}

/** What a row costs beside its text: the timestamp and the array's slots. */
const ROW_OVERHEAD_BYTES = 64;

/**
 * The event log's backpressure: events recorded but not yet committed, bounded in bytes (waiting
 * rows and batches in flight together). An event that does not fit is dropped and counted, never
 * queued: a writer slower than the traffic costs events, not the daemon's memory.
 */
export class EventLogBuffer {
  private rows: unknown[] = [];
  private count = 0;
  private bytes = 0;
  private inFlightBatches = 0;
  private inFlightBytes = 0;
  /** Events refused because the buffer was full. */
  dropped = 0;

  constructor(private readonly limits: BufferLimits) {}

  get waiting(): number {
    return this.count;
  }

  /** False when the event was dropped. */
  add(timestamp: number, meta: string, data: string): boolean {
    const bytes = meta.length + data.length + ROW_OVERHEAD_BYTES;
    if (this.bytes + this.inFlightBytes + bytes > this.limits.maxBytes) {
      this.dropped++;
      return false;
    }
    this.rows.push(timestamp, meta, data);
    this.count++;
    this.bytes += bytes;
    return true;
  }

  /** A full batch is waiting and the writer may take another. */
  get batchReady(): boolean {
    return (this.count >= this.limits.batchRows || this.bytes >= this.limits.batchBytes) && this.inFlightBatches < this.limits.maxBatchesInFlight;
  }

  /** Takes every waiting row as one batch, counted in flight until `settled`. */
  take(): Batch | undefined {
    if (this.count === 0) return undefined;
    const batch = { rows: this.rows, count: this.count, bytes: this.bytes };
    this.rows = [];
    this.count = 0;
    this.bytes = 0;
    this.inFlightBatches++;
    this.inFlightBytes += batch.bytes;
    return batch;
  }

  /** The writer answered for a batch (committed or failed). */
  settled(batch: Batch): void {
    this.inFlightBatches--;
    this.inFlightBytes -= batch.bytes;
  }

  /** Forgets the waiting rows; returns how many there were. */
  discardWaiting(): number {
    const discarded = this.count;
    this.rows = [];
    this.count = 0;
    this.bytes = 0;
    return discarded;
  }
}
