import { Controller, Get, Header, Logger, NotFoundException, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DASHBOARD_ASSETS,
  DASHBOARD_VENDOR_ASSETS,
  type DashboardAsset,
  type DashboardVendorAsset,
  resolveDashboardPublicDir,
  resolveDashboardVendorAsset,
} from './dashboard-assets.js';

/** The part of the platform's response the dashboard uses: Fastify's reply and Express's response both have it. */
interface HeaderSink {
  header(name: string, value: string): unknown;
}

/**
 * The page loads nothing but its own files (and the chart library's, served from here too) and talks only to this
 * origin: the token the operator types in cannot be sent anywhere else even if some text on the page were ever
 * interpreted as markup. The chart library sets element.style from script, which `style-src 'self'` allows (only
 * style attributes in markup and inline <style> are refused).
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
 * stylesheet and ES module from `GET <prefix>/dashboard/…` (the chart library from `GET <prefix>/dashboard/vendor/…`)
 * and calls the JSON API with the token the operator enters. The files are read per request (a few KB, a handful of
 * operators), so editing them needs no restart.
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

  @Get('dashboard/charts.js')
  @Header('Cache-Control', 'no-cache')
  chartsScript(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    return this.serve('charts.js', response);
  }

  @Get('dashboard/vendor/uPlot.iife.min.js')
  @Header('Cache-Control', 'no-cache')
  chartScript(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    return this.serveVendor('uPlot.iife.min.js', response);
  }

  @Get('dashboard/vendor/uPlot.min.css')
  @Header('Cache-Control', 'no-cache')
  chartStylesheet(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    return this.serveVendor('uPlot.min.css', response);
  }

  private serve(asset: DashboardAsset, response: HeaderSink): Promise<string> {
    return this.send(asset, DASHBOARD_ASSETS[asset], response, () => {
      this.publicDir ??= resolveDashboardPublicDir();
      return join(this.publicDir, asset);
    });
  }

  private serveVendor(asset: DashboardVendorAsset, response: HeaderSink): Promise<string> {
    return this.send(asset, DASHBOARD_VENDOR_ASSETS[asset].contentType, response, () =>
      resolveDashboardVendorAsset(asset),
    );
  }

  private async send(
    asset: string,
    contentType: string,
    response: HeaderSink,
    locate: () => string,
  ): Promise<string> {
    let body: string;
    try {
      body = await readFile(locate(), 'utf8');
    } catch (error) {
      this.logger.error({
        msg: 'dashboard file unavailable',
        event: 'dashboard_missing',
        asset,
        error: `${error}`,
      });
      throw new NotFoundException(`dashboard file ${asset} is not available`);
    }
    response.header('Content-Type', contentType);
    response.header('X-Content-Type-Options', 'nosniff');
    return body;
  }
}
