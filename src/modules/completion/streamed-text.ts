/**
 * A turn's streamed text on its way to the client: the first delta goes out at once, later ones at
 * most every `windowMs`, joined and in order. A model streams a few tokens per delta; sent one by
 * one, each would be a push, a bus event and an event-log row.
 */
export class StreamedText {
  private pending = '';
  private timer?: NodeJS.Timeout;
  private sentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly send: (delta: string) => void,
  ) {}

  add(delta: string): void {
    this.pending += delta;
    if (this.timer) return;
    const wait = this.sentAt + this.windowMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Sends what is pending now: before any other progress of the turn, and when the turn ends. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const delta = this.pending;
    this.pending = '';
    this.sentAt = this.now();
    this.send(delta);
  }
}
