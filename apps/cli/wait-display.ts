import { createSpinner, type Spinner } from 'nanospinner';
import { dim } from './output';

/**
 * How `ksi complete --wait` shows a wait: on a terminal, a spinner with the elapsed time and the
 * current stage; otherwise (a pipe, a log) one plain line per stage, each with the elapsed time.
 */
export class WaitDisplay {
  private readonly startedAt = Date.now();
  private stage: string;
  private spinner?: Spinner;
  private ticker?: NodeJS.Timeout;

  constructor(requestId: string, terminal = process.stderr.isTTY === true) {
    this.stage = `queued ${requestId}`;
    if (!terminal) {
      this.line();
      return;
    }
    this.spinner = createSpinner(this.text(), { stream: process.stderr }).start();
    this.ticker = setInterval(() => this.spinner?.update({ text: this.text() }), 1_000);
  }

  /** A new stage: the spinner's text, or a line of its own. */
  update(stage: string): void {
    this.stage = stage;
    if (this.spinner) this.spinner.update({ text: this.text() });
    else this.line();
  }

  /** Streamed text takes the terminal from here: the spinner goes, later stages are plain lines. */
  stop(): void {
    clearInterval(this.ticker);
    this.spinner?.clear();
    this.spinner?.stop();
    this.spinner = undefined;
  }

  private elapsed(): string {
    const seconds = Math.floor((Date.now() - this.startedAt) / 1000);
    return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  }

  private text(): string {
    return `${this.stage} ${dim(`(${this.elapsed()}, Ctrl-C to stop waiting)`)}`;
  }

  private line(): void {
    process.stderr.write(dim(`[${this.elapsed()}] ${this.stage}\n`));
  }
}
