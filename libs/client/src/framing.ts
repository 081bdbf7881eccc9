/** NDJSON framing: splits a byte stream into lines, with a cap on a line's size. */

export const LINE_TOO_LONG = Symbol('line_too_long');
export type Frame = string | typeof LINE_TOO_LONG;

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** True while the rest of an over-long line is being skipped. */
  private discarding = false;

  constructor(private readonly maxLineBytes = Number.POSITIVE_INFINITY) {}

  /** Part of a line has arrived and its end has not. */
  get midLine(): boolean {
    return this.partBytes > 0 || this.discarding;
  }

  /** Appends the complete lines found in `chunk` to `out`; keeps the unfinished tail. */
  push(chunk: Buffer, out: Frame[]): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.discarding) {
        if (this.partBytes + (end - start) > this.maxLineBytes) {
          this.reset();
          this.discarding = true;
          out.push(LINE_TOO_LONG);
        } else if (newline !== -1) {
          out.push(this.take(chunk.subarray(start, end)));
        } else {
          this.parts.push(chunk.subarray(start, end));
          this.partBytes += end - start;
        }
      }
      if (newline === -1) return;
      this.discarding = false;
      start = newline + 1;
    }
  }

  /** At end of stream, an unterminated last line still counts. */
  end(out: Frame[]): void {
    if (!this.discarding && this.partBytes > 0) out.push(this.take(Buffer.alloc(0)));
    this.reset();
    this.discarding = false;
  }

  private take(last: Buffer): string {
    let bytes = last;
    if (this.parts.length > 0) {
      this.parts.push(last);
      bytes = Buffer.concat(this.parts);
      this.reset();
    }
    const length = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
    return bytes.toString('utf8', 0, length);
  }

  private reset(): void {
    this.parts = [];
    this.partBytes = 0;
  }
}
