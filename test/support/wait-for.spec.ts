import { describe, expect, it } from '@jest/globals';
import { holdsThrough, waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? 'ready' : null), { intervalMs: 1 })).resolves.toBe('ready');
    expect(calls).toBe(3);
  });

  it('fails at the deadline, naming what it waited for and the last error', async () => {
    const started = Date.now();
    await expect(
      waitFor(
        () => {
          throw new Error('still 0');
        },
        { timeoutMs: 100, intervalMs: 10, message: 'the job succeeded' },
      ),
    ).rejects.toThrow('waitFor: the job succeeded not met within 100 ms: still 0');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});

describe('holdsThrough', () => {
  it('samples through the whole window', async () => {
    const samples: number[] = [];
    const started = Date.now();
    await holdsThrough(() => samples.push(Date.now() - started) > 0, { windowMs: 200, intervalMs: 40 });
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(samples.at(-1)).toBeGreaterThanOrEqual(200);
  });

  it('fails when the condition stops holding inside the window', async () => {
    const started = Date.now();
    await expect(
      holdsThrough(() => Date.now() - started < 100, { windowMs: 1_000, intervalMs: 10, message: 'pending' }),
    ).rejects.toThrow(/holdsThrough: pending stopped holding after \d+ ms/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
