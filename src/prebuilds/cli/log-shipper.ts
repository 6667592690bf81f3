/** One line of a build's output, as the logs route takes it. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** The logs route's limits: lines per call and characters per line. */
export const MAX_LINES_PER_CALL = 1_000;
export const MAX_LINE_LENGTH = 16_384;
/** Lines kept while the API cannot be reached; older ones are dropped beyond it (the build goes on). */
const MAX_BUFFERED_LINES = 20_000;

export interface LogShipperOptions {
  /** Sends one batch; throws to have it sent again later. */
  send(lines: LogLine[]): Promise<void>;
  /** A batch goes out this long after its first line, or sooner when it is full. */
  flushMs: number;
  batchLines: number;
}

/**
 * Batches a build's output lines and sends them in order, one call at a time: after `flushMs` or once `batchLines`
 * are waiting. A failed call keeps its lines for the next try, so a short outage loses nothing.
 */
export class LogShipper {
  private readonly buffer: LogLine[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private stopped = false;
  dropped = 0;

  constructor(private readonly options: LogShipperOptions) {}

  push(line: LogLine): void {
    if (this.stopped) return;
    const text = line.text.length > MAX_LINE_LENGTH ? line.text.slice(0, MAX_LINE_LENGTH) : line.text;
    this.buffer.push({ stream: line.stream, text });
    if (this.buffer.length > MAX_BUFFERED_LINES) {
      this.buffer.shift();
      this.dropped++;
    }
    if (this.buffer.length >= this.options.batchLines) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Sends what is waiting (after a call in flight, if any); resolves when it was tried. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.sending) await this.sending;
    if (this.buffer.length === 0 || this.stopped) return;
    const batch = this.buffer.splice(0, Math.min(MAX_LINES_PER_CALL, this.options.batchLines));
    let failed = false;
    this.sending = this.options.send(batch).then(
      () => undefined,
      () => {
        failed = true;
        // Back at the front for the next try, unless the job is gone (stop() cleared the buffer).
        if (!this.stopped) this.buffer.unshift(...batch);
      },
    );
    await this.sending;
    this.sending = null;
    // What a failed call left behind is tried again later, not at once (the API may be down).
    if (this.buffer.length > 0 && !this.stopped) {
      const delay = failed ? this.options.flushMs * 5 : this.options.flushMs;
      this.timer ??= setTimeout(() => void this.flush(), delay);
    }
  }

  /** Sends everything still waiting; gives up after three failed calls in a row (the job must still end). */
  async drain(): Promise<void> {
    for (let failures = 0; this.buffer.length > 0 && !this.stopped && failures < 3;) {
      const waiting = this.buffer.length;
      await this.flush();
      failures = this.buffer.length >= waiting ? failures + 1 : 0;
    }
  }

  /** Drops what is waiting and sends nothing more (the lease was lost). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buffer.length = 0;
  }
}
