import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PrebuildsErrorCode } from 'nest-prebuilds';

interface FallbackRequest {
  method: string;
  path: string;
}

interface FallbackResponse {
  headersSent: boolean;
  status(code: number): { json(body: unknown): void };
}

/**
 * Nest's not-found handler covers only paths under the global prefix; anything else (`/nowhere`, `/docs` when the
 * docs are off) would get Express's HTML page. Appended after every route and Nest's own handlers (the bootstrap
 * hook runs once the router is complete), it answers what nothing else did with a 404 in the API's error shape.
 */
@Injectable()
export class UnknownRouteFallback implements OnApplicationBootstrap {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'express') return;
    adapter.use((request: FallbackRequest, response: FallbackResponse, next: (error?: unknown) => void) => {
      if (response.headersSent) return next();
      response.status(404).json({
        statusCode: 404,
        code: PrebuildsErrorCode.NotFound,
        message: `Cannot ${request.method} ${request.path}`,
      });
    });
  }
}
