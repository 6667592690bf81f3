import { Controller, Get, Header, Logger, NotFoundException, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DASHBOARD_ASSETS, type DashboardAsset, resolveDashboardPublicDir } from './dashboard-assets.js';

interface HeaderSink {
  setHeader(name: string, value: string): void;
}

/**
 * The page loads nothing but its own two files and talks only to this origin: the token the operator types in
 * cannot be sent anywhere else even if some text on the page were ever interpreted as markup.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The operators' dashboard: `GET /` (left outside the global prefix by the host) serves the page, which loads its
 * stylesheet and ES module from `GET <prefix>/dashboard/…` and calls the JSON API with the token the operator enters.
 * The files are read per request (a few KB, a handful of operators), so editing them needs no restart.
 */
@ApiExcludeController()
@Controller()
export class DashboardController {
  private readonly logger = new Logger(DashboardController.name);
  private publicDir: string | undefined;

  @Get()
  @Header('Cache-Control', 'no-cache')
  @Header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  @Header('Referrer-Policy', 'no-referrer')
  @Header('X-Frame-Options', 'DENY')
  index(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    return this.serve('index.html', response);
  }

  @Get('dashboard/dashboard.css')
  @Header('Cache-Control', 'no-cache')
  stylesheet(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    return this.serve('dashboard.css', response);
  }

  @Get('dashboard/dashboard.js')
  @Header('Cache-Control', 'no-cache')
  script(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    return this.serve('dashboard.js', response);
  }

  private async serve(asset: DashboardAsset, response: HeaderSink): Promise<string> {
    let body: string;
    try {
      this.publicDir ??= resolveDashboardPublicDir();
      body = await readFile(join(this.publicDir, asset), 'utf8');
    } catch (error) {
      this.logger.error({
        msg: 'dashboard file unavailable',
        event: 'dashboard_missing',
        asset,
        error: `${error}`,
      });
      throw new NotFoundException(`dashboard file ${asset} is not available`);
    }
    response.setHeader('Content-Type', DASHBOARD_ASSETS[asset]);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    return body;
  }
}
