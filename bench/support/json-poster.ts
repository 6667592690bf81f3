import http from 'node:http';

export interface JsonAnswer {
  status: number;
  body: unknown;
}

export interface JsonPoster {
  post(headers: Record<string, string>, body: unknown): Promise<JsonAnswer>;
  /** Closes the kept-alive sockets. */
  close(): void;
}

/**
 * POSTs JSON to one URL over at most `sockets` keep-alive connections and answers the status and the parsed body.
 * A load generator in the server's own process: every microsecond it spends is taken from the server, hence
 * node:http rather than `fetch` (whose web streams cost several times as much per request).
 */
export function jsonPoster(url: string, sockets: number): JsonPoster {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const post = (headers: Record<string, string>, body: unknown) =>
    new Promise<JsonAnswer>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            try {
              resolve({
                status: response.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString()),
              });
            } catch (error) {
              reject(error as Error);
            }
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  return { post, close: () => agent.destroy() };
}
