import { Inject, Injectable } from '@nestjs/common';
import type { ForkRecorded, LockAcquired, LockOverview, LockReleased, LockState } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';

interface Lock {
  holder: string;
  acquiredAt: number;
  timeoutMs: number;
  queue: { requestId: string; timeoutMs: number }[];
  forked: boolean;
  parent: string | null;
  children: string[];
}

/** Advisory conversation locks: one holder, a FIFO of waiters, expiry that hands the lock on. */
@Injectable()
export class ConversationLocks {
  private readonly locks = new Map<string, Lock>();

  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  acquire(requestId: string, conversationId: string, timeoutSeconds: number): LockAcquired {
    this.expire();
    const timeoutMs = timeoutSeconds * 1000;
    const lock = this.locks.get(conversationId);
    if (!lock) {
      this.locks.set(conversationId, { holder: requestId, acquiredAt: this.clock.now(), timeoutMs, queue: [], forked: false, parent: null, children: [] });
      return { acquired: true, state: 'locked', conversation_id: conversationId };
    }
    if (lock.holder === requestId) return { acquired: true, state: 'locked', conversation_id: conversationId };
    if (!lock.queue.some((waiter) => waiter.requestId === requestId)) lock.queue.push({ requestId, timeoutMs });
    return { acquired: false, state: 'queued', conversation_id: conversationId, position: lock.queue.findIndex((w) => w.requestId === requestId) + 1, holder: lock.holder };
  }

  release(requestId: string): LockReleased {
    this.expire();
    for (const [conversationId, lock] of this.locks) {
      if (lock.holder === requestId) return { released: true, conversation_id: conversationId, next_request: this.handOn(conversationId, lock) };
      const waiting = lock.queue.findIndex((waiter) => waiter.requestId === requestId);
      if (waiting !== -1) {
        lock.queue.splice(waiting, 1);
        return { released: false, error: 'Request does not hold this lock (it was waiting; it no longer is)', conversation_id: conversationId };
      }
    }
    return { released: false, error: 'No lock held by this request' };
  }

  status(conversationId: string): LockState {
    this.expire();
    const lock = this.locks.get(conversationId);
    if (!lock) return { locked: false, state: 'unlocked', conversation_id: conversationId };
    return {
      locked: true,
      state: lock.forked ? 'forked' : 'locked',
      conversation_id: conversationId,
      holder: lock.holder,
      acquired_at: lock.acquiredAt / 1000,
      expires_at: (lock.acquiredAt + lock.timeoutMs) / 1000,
      queue_length: lock.queue.length,
      queue: lock.queue.slice(0, 5).map((waiter) => waiter.requestId),
      parent_conversation: lock.parent,
      child_conversations: lock.children,
    };
  }

  overview(): LockOverview {
    this.expire();
    const locks = Object.fromEntries([...this.locks].map(([id, lock]) => [id, { holder: lock.holder, queue_length: lock.queue.length, is_fork: lock.parent !== null }]));
    return { total_locks: this.locks.size, total_forks: [...this.locks.values()].filter((lock) => lock.parent !== null).length, locks };
  }

  forkDetected(requestId: string, expected: string, actual: string): ForkRecorded {
    const parent = this.locks.get(expected);
    if (parent) {
      parent.forked = true;
      parent.children.push(actual);
    }
    this.locks.set(actual, { holder: requestId, acquiredAt: this.clock.now(), timeoutMs: parent?.timeoutMs ?? 300_000, queue: [], forked: false, parent: expected, children: [] });
    return { fork_detected: true, parent_conversation: expected, child_conversation: actual };
  }

  snapshot(): Record<string, { holder: string; queue: string[] }> {
    return Object.fromEntries([...this.locks].map(([id, lock]) => [id, { holder: lock.holder, queue: lock.queue.map((waiter) => waiter.requestId) }]));
  }

  /** A lock held past its timeout passes to the next waiter (or goes away). */
  private expire(): void {
    const now = this.clock.now();
    for (const [conversationId, lock] of this.locks) if (now >= lock.acquiredAt + lock.timeoutMs) this.handOn(conversationId, lock);
  }

  private handOn(conversationId: string, lock: Lock): string | null {
    const next = lock.queue.shift();
    if (!next) {
      this.locks.delete(conversationId);
      return null;
    }
    lock.holder = next.requestId;
    lock.timeoutMs = next.timeoutMs;
    lock.acquiredAt = this.clock.now();
    return next.requestId;
  }
}
