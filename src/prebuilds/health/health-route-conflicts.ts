import { Inject, Injectable, type OnModuleInit, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants.js';
import {
  ApplicationConfig,
  DiscoveryService,
  MetadataScanner,
  ModulesContainer,
  Reflector,
} from '@nestjs/core';
import { VERSION_NEUTRAL, VersioningType, type VersioningOptions } from '@nestjs/common';

/** The controller class PrebuildsHealthModule mounts (one per configuration). */
export const PREBUILDS_HEALTH_CONTROLLER = Symbol('PREBUILDS_HEALTH_CONTROLLER');

/** One mapped route: its method, the full path it is served at, and the handler that serves it. */
export interface MappedRoute {
  method: RequestMethod;
  path: string;
  controller: Type;
  methodName: string;
}

type VersionValue = string | symbol | (string | symbol)[];

const toArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** `/a//b/` → `/a/b`, `''` → `/`. */
export function normalizePath(path: string): string {
  const collapsed = `/${path}`.replace(/\/{2,}/g, '/');
  return collapsed.length > 1 ? collapsed.replace(/\/+$/, '') : collapsed;
}

/**
 * Every controller route of the application with the full path Nest serves it at: the global prefix (unless the
 * route is excluded from it), the URI version, the RouterModule path of its module, the controller's and the method's
 * paths — the composition Nest's own router applies, from public metadata only.
 */
@Injectable()
export class MappedRoutes {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
  ) {}

  list(): MappedRoute[] {
    const routes: MappedRoute[] = [];
    // An application context (no HTTP server) has no application config, and maps nothing.
    if (!this.config) return routes;
    const versioning = this.config.getVersioning();
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller?.prototype) continue;
      const hostModule = wrapper.host?.metatype;
      const modulePath: string | undefined = hostModule
        ? (Reflect.getMetadata(MODULE_PATH + this.modules.applicationId, hostModule) ??
          Reflect.getMetadata(MODULE_PATH, hostModule))
        : undefined;
      const controllerPaths = toArray<string>(this.reflector.get(PATH_METADATA, controller) ?? '/');
      const controllerVersion: VersionValue | undefined = versioning
        ? (this.reflector.get(VERSION_METADATA, controller) ?? versioning.defaultVersion)
        : undefined;
      for (const methodName of this.scanner.getAllMethodNames(controller.prototype)) {
        const handler = controller.prototype[methodName] as (...args: unknown[]) => unknown;
        const methodPaths: string | string[] | undefined = this.reflector.get(PATH_METADATA, handler);
        if (methodPaths === undefined) continue;
        const method: RequestMethod = this.reflector.get(METHOD_METADATA, handler) ?? RequestMethod.GET;
        const version: VersionValue | undefined =
          this.reflector.get(VERSION_METADATA, handler) ?? controllerVersion;
        for (const controllerPath of controllerPaths)
          for (const methodPath of toArray(methodPaths))
            for (const path of this.fullPaths(
              method,
              [modulePath, controllerPath, methodPath],
              version,
              versioning,
            ))
              routes.push({ method, path, controller, methodName });
      }
    }
    return routes;
  }

  private fullPaths(
    method: RequestMethod,
    fragments: (string | undefined)[],
    version: VersionValue | undefined,
    versioning: VersioningOptions | undefined,
  ): string[] {
    const prefix = this.config.getGlobalPrefix();
    const excluded = this.config.getGlobalPrefixOptions().exclude ?? [];
    const relative = normalizePath(fragments.filter((fragment) => fragment).join('/'));
    const versionPrefixes =
      version !== undefined && versioning?.type === VersioningType.URI
        ? toArray(version).map((v) =>
            v === VERSION_NEUTRAL
              ? ''
              : `/${versioning.prefix === false ? '' : (versioning.prefix ?? 'v')}${String(v)}`,
          )
        : [''];
    return versionPrefixes.map((versionPrefix) => {
      const isExcluded = excluded.some(
        (route) =>
          (route.requestMethod === RequestMethod.ALL ||
            (route.requestMethod as number) === -1 ||
            route.requestMethod === method) &&
          route.pathRegex.test(relative),
      );
      return normalizePath(
        prefix && !isExcluded ? `${prefix}/${versionPrefix}/${relative}` : `${versionPrefix}/${relative}`,
      );
    });
  }
}

const methodsOverlap = (a: RequestMethod, b: RequestMethod) =>
  a === b || a === RequestMethod.ALL || b === RequestMethod.ALL;

/**
 * Fails the application's start when another controller maps a method and full path that PrebuildsHealthModule maps:
 * the module never silently shadows, or is shadowed by, a host's own probe.
 */
@Injectable()
export class HealthRouteConflictCheck implements OnModuleInit {
  constructor(
    private readonly routes: MappedRoutes,
    @Inject(PREBUILDS_HEALTH_CONTROLLER) private readonly healthController: Type,
  ) {}

  onModuleInit(): void {
    const routes = this.routes.list();
    const own = routes.filter((route) => route.controller === this.healthController);
    const others = routes.filter((route) => route.controller !== this.healthController);
    const conflicts = own.flatMap((mine) =>
      others
        .filter((other) => methodsOverlap(mine.method, other.method) && other.path === mine.path)
        .map((other) => ({ mine, other })),
    );
    if (conflicts.length === 0) return;
    throw new Error(
      conflicts
        .map(({ mine, other }) => {
          const option = mine.methodName === 'liveness' ? 'liveness' : 'readiness';
          return (
            `PrebuildsHealthModule: ${RequestMethod[mine.method]} ${mine.path} is already mapped by ` +
            `${other.controller.name}.${other.methodName}; pass forRoot({ ${option}: false }) or another path, ` +
            `or add the exported indicators to your own probe`
          );
        })
        .join('\n'),
    );
  }
}
