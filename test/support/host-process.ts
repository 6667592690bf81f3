import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface HostProcess {
  port: number;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts the built host app (what `npm start` runs after its build step) and waits until /readyz answers 200. */
export async function startHostProcess(
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
): Promise<HostProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const host: HostProcess = {
    port,
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`host exited with ${child.exitCode}: ${output}`);
    const ready = await fetch(`http://127.0.0.1:${port}/api/v2/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return host;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await host.stop();
  throw new Error(`host did not become ready in ${readyTimeoutMs} ms: ${output}`);
}
