import * as fs from 'node:fs';

const READ_CHUNK_BYTES = 1024 * 1024;

/** One line of the daemon log (pino: level, time, msg, and the fields the line carries). */
export interface LogLine {
  level?: string;
  time?: string;
  msg?: string;
  [field: string]: unknown;
}

/** Reads what was appended since the last read, whole lines only; starts over when the file was replaced or truncated. */
export class LogReader {
  private offset = 0;
  /** The bytes of a line not yet ended (a UTF-8 character may be cut between reads). */
  private partial = Buffer.alloc(0);

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Leaves out what the file holds now: the next read starts with the lines written from here on. */
  skipToEnd(): this {
    try {
      this.offset = fs.statSync(this.file).size;
    } catch {
      // No log yet: every line to come is new.
    }
    return this;
  }

  readNew(): void {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return;
    }
    if (size < this.offset) {
      this.offset = 0;
      this.partial = Buffer.alloc(0);
    }
    if (size === this.offset) return;
    const descriptor = fs.openSync(this.file, 'r');
    // In chunks, so a large log never sits in memory whole.
    const chunk = Buffer.alloc(READ_CHUNK_BYTES);
    try {
      while (this.offset < size) {
        const read = fs.readSync(descriptor, chunk, 0, Math.min(chunk.length, size - this.offset), this.offset);
        if (read === 0) break;
        this.offset += read;
        let pending = Buffer.concat([this.partial, chunk.subarray(0, read)]);
        for (let newline = pending.indexOf(10); newline !== -1; newline = pending.indexOf(10)) {
          const line = pending.subarray(0, newline).toString('utf8');
          pending = pending.subarray(newline + 1);
          if (line.trim() !== '') this.onLine(line);
        }
        this.partial = Buffer.from(pending);
      }
    } finally {
      fs.closeSync(descriptor);
    }
  }
}

