import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** How long the condition may take; then the wait fails. */
  timeoutMs?: number;
  /** How often the condition is checked. */
  intervalMs?: number;
  /** Says what was waited for, in the failure. */
  message?: string;
}

/**
 * Waits until `predicate` returns a truthy value (awaited), checking every `intervalMs`, and resolves with it; fails
 * with `message` once `timeoutMs` has passed. A predicate that throws is checked again until the deadline, and its
 * last error is part of the failure, so `expect` inside a predicate reads as it would outside.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, message = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor: ${message} not met within ${timeoutMs} ms${why}`);
    }
    await sleep(intervalMs);
  }
}

export interface HoldOptions {
  /** How long the condition must keep holding. */
  windowMs: number;
  /** How often it is checked during the window. */
  intervalMs?: number;
  /** Says what had to keep holding, in the failure. */
  message?: string;
}

/**
 * For "nothing happens" checks: samples `predicate` from now until `windowMs` has passed (first and last sample
 * included) and fails at the first sample where it does not hold, instead of looking once after a sleep.
 */
export async function holdsThrough(
  predicate: () => boolean | Promise<boolean>,
  { windowMs, intervalMs = 50, message = 'condition' }: HoldOptions,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    const elapsed = Date.now() - started;
    if (!(await predicate())) throw new Error(`holdsThrough: ${message} stopped holding after ${elapsed} ms`);
    if (elapsed >= windowMs) return;
    await sleep(Math.min(intervalMs, windowMs - elapsed));
  }
}
