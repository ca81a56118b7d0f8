import { Inject, Injectable, Logger, RequestMethod, type Type, type VersioningOptions } from '@nestjs/common';
import { MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, ModuleRef, ModulesContainer } from '@nestjs/core';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory.js';
import type { ResolvedSessionOptions } from '../session-options.js';
import { SESSION_CONTROLLER, SESSION_RESOLVED_OPTIONS } from '../session.internal-constants.js';
import { SessionConfigError } from '../session.errors.js';

// What a cookie Path may hold (RFC 6265 path-av: no CTLs, no ';'), as an absolute path without query.
const COOKIE_PATH = /^\/[!-:<-~]*$/;

/** The routes as clients reach them. */
export interface SessionRoutePaths {
  /** Path of `POST refresh`: the refresh cookie's `Path`. */
  readonly refreshPath: string;
  /** Path segments every module route starts with (lower-case); empty when they are not the module's alone. */
  readonly baseSegments: readonly string[];
}

/** Nest keeps the app's router settings (global prefix, versioning) on its container; ModuleRef holds it. */
function applicationConfigOf(moduleRef: ModuleRef): ApplicationConfig | undefined {
  const config = (moduleRef as unknown as { container?: { applicationConfig?: unknown } }).container?.applicationConfig;
  return config instanceof ApplicationConfig ? config : undefined;
}

function segments(path: string): string[] {
  return path
    .toLowerCase()
    .split('/')
    .filter((s) => s !== '');
}

/**
 * Where the module's routes really are. Read once the app is configured (the first cookie write
 * or bootstrap, whichever comes first) from Nest's own router settings with Nest's own path
 * builder: global prefix and its `exclude`, URI versioning (app default or `@Version`), and a
 * `RouterModule` path. So the refresh cookie's `Path` is the path the refresh route is served
 * at, and the no-store listener covers the prefixed paths. `refreshPath` in the options wins:
 * for `routes: false`, or a proxy that rewrites paths Nest cannot see.
 */
@Injectable()
export class SessionRoutes {
  private readonly logger = new Logger('SessionModule');
  private resolved: SessionRoutePaths | undefined;
  private readonly explicit: string | undefined;

  constructor(
    @Inject(SESSION_RESOLVED_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(SESSION_CONTROLLER) private readonly controller: Type | null,
    private readonly moduleRef: ModuleRef,
    private readonly modules: ModulesContainer,
  ) {
    const explicit: unknown = options.refreshPathOption;
    if (
      explicit !== undefined &&
      (typeof explicit !== 'string' || !COOKIE_PATH.test(explicit) || /[?#]/.test(explicit))
    ) {
      throw new SessionConfigError(
        `refreshPath ${JSON.stringify(explicit)} must be an absolute URL path a cookie can carry, like "/api/auth/refresh"`,
      );
    }
    this.explicit = explicit;
  }

  /** The paths; computed on first use, when the app's prefix and versioning are set. */
  get paths(): SessionRoutePaths {
    this.resolved ??= this.resolve();
    return this.resolved;
  }

  private resolve(): SessionRoutePaths {
    if (this.explicit !== undefined) {
      const parent = segments(this.explicit).slice(0, -1);
      // A refresh route at the top (`/refresh`): its parent would be every path of the app.
      return { refreshPath: this.explicit, baseSegments: parent.length > 0 ? parent : segments(this.explicit) };
    }
    const ctrlPath = this.controller ? this.pathOf(this.controller) : this.options.routePrefix;
    const modulePath = this.controller ? this.modulePathOf(this.controller) : undefined;
    const config = applicationConfigOf(this.moduleRef);
    const versioning = config?.getVersioning();
    const paths = new RoutePathFactory(config ?? new ApplicationConfig()).create(
      {
        ctrlPath: `/${ctrlPath}`,
        methodPath: '/refresh',
        modulePath,
        globalPrefix: config?.getGlobalPrefix() ? `/${config.getGlobalPrefix()}` : '',
        controllerVersion: this.controllerVersion(versioning),
        versioningOptions: versioning,
      },
      RequestMethod.POST,
    );
    const refreshPath = paths[0];
    if (paths.length > 1) {
      this.logger.warn(
        `the refresh route is served at ${paths.join(', ')}; the refresh cookie is scoped to ${refreshPath} (set refreshPath to choose)`,
      );
    }
    if (!COOKIE_PATH.test(refreshPath)) {
      throw new SessionConfigError(`the refresh route "${refreshPath}" is a path a cookie cannot carry`);
    }
    // Mounted at the app's root (no module path or prefix of its own): every answer there is the app's.
    const own = `${modulePath ?? ''}/${ctrlPath}`.replace(/\//g, '') !== '';
    return { refreshPath, baseSegments: own ? segments(refreshPath).slice(0, -1) : [] };
  }

  private pathOf(controller: Type): string {
    const path = Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined;
    const first = Array.isArray(path) ? path[0] : path;
    return (first ?? '').replace(/^\/+|\/+$/g, '');
  }

  /** The `RouterModule` path of the module that holds the controller, read as Nest's router reads it. */
  private modulePathOf(controller: Type): string | undefined {
    for (const module of this.modules.values()) {
      if (!module.controllers.has(controller)) continue;
      const key = MODULE_PATH + this.modules.applicationId;
      return (Reflect.getMetadata(key, module.metatype) ?? Reflect.getMetadata(MODULE_PATH, module.metatype)) as
        string | undefined;
    }
    return undefined;
  }

  private controllerVersion(versioning: VersioningOptions | undefined) {
    if (!versioning) return undefined;
    const own: unknown = this.controller ? Reflect.getMetadata(VERSION_METADATA, this.controller) : undefined;
    return (own ?? versioning.defaultVersion) as RoutePathFactoryVersion;
  }
}

type RoutePathFactoryVersion = Parameters<RoutePathFactory['getVersion']>[0]['controllerVersion'];
