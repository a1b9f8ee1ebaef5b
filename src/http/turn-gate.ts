/**
 * Spreads a burst of operations over event-loop turns: at most `perTurn` start executing in one turn, and the
 * rest wait, in arrival order, for the next turns.
 *
 * Without it, one poll of the sockets hands every waiting request to the executor at once, and each answer
 * waits for the whole burst (the turn's group commit comes after the last one). At 64 connections of sendText
 * that turn took 10-12 ms, and a request that came in just after its poll waited for it and for the next one. With
 * 32 per turn the bench's sends also took about a fifth less server CPU each (alternating runs; 8 per turn gained
 * nothing, 16-48 all did). Fewer operations' objects alive at once is the likely reason; it was not pinned down.
 */
export class TurnGate {
  /** Operations that waited for a later turn. */
  deferred = 0;
  private started = 0;
  private resetQueued = false;
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(private readonly perTurn: number) {}

  /** null: start now; else a promise that resolves in the turn the caller may start in. */
  enter(): Promise<void> | null {
    if (this.perTurn <= 0) return null;
    this.queueReset();
    if (this.head === this.waiting.length && this.started < this.perTurn) {
      this.started++;
      return null;
    }
    this.deferred++;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Operations waiting for their turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  // At the end of the turn (check phase): the next ones start, and count against the turn that follows.
  private readonly reset = () => {
    this.resetQueued = false;
    this.started = 0;
    while (this.head < this.waiting.length && this.started < this.perTurn) {
      this.started++;
      this.waiting[this.head++]!();
    }
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    }
    if (this.started > 0) this.queueReset();
  };

  private queueReset(): void {
    if (this.resetQueued) return;
    this.resetQueued = true;
    setImmediate(this.reset);
  }
}
