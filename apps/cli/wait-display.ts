import { createSpinner, type Spinner } from 'nanospinner';
import { dim } from './output';

const FRAME_MS = 80;

/**
 * How `ksi complete --wait` shows a wait: on a terminal, a spinner with the elapsed time and the
 * current stage; otherwise (a pipe, a log) one plain line per stage, each with the elapsed time.
 */
export class WaitDisplay {
  private readonly startedAt = Date.now();
  private stage: string;
  private spinner?: Spinner;
  private ticker?: NodeJS.Timeout;

  // A terminal that reports no width (a pty nobody sized) sends nanospinner's redraw into an endless loop: plain lines there.
  constructor(requestId: string, terminal = process.stderr.isTTY === true && (process.stderr.columns ?? 0) > 0) {
    this.stage = `queued ${requestId}`;
    if (!terminal) {
      this.line();
      return;
    }
    // Frames are drawn here, not by start(): start() also takes over Ctrl-C (it exits the process),
    // which must ask whether to cancel the request instead.
    const spinner = createSpinner(this.text(), { stream: process.stderr });
    this.spinner = spinner;
    this.ticker = setInterval(() => spinner.update({ text: this.text() }).spin(), FRAME_MS);
    spinner.spin();
  }

  /** A new stage: the spinner's text, or a line of its own. */
  update(stage: string): void {
    this.stage = stage;
    if (this.spinner) this.spinner.update({ text: this.text() }).spin();
    else this.line();
  }

  /** Streamed text takes the terminal from here: the spinner goes, later stages are plain lines. */
  stop(): void {
    clearInterval(this.ticker);
    if (!this.spinner) return;
    this.spinner.clear();
    // Drawing a frame hides the cursor; it comes back with the spinner gone.
    process.stderr.write('\u001b[?25h');
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
