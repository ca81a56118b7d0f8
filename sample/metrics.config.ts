import { type DynamicModule, Controller, Get, Inject, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Registry } from 'prom-client';
import type { SessionModuleOptions } from '../lib/index.js';

const METRICS_REGISTRY = Symbol('sample:metrics-registry');

/**
 * `GET /metrics`: the Prometheus text exposition of the app's registry. Unauthenticated like
 * `/health`: it holds counts only, never an id, an address or a token. In production serve it
 * only to the scraper (internal port or a proxy rule); `SESSION_METRICS=false` removes it.
 */
@Controller()
export class MetricsController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get('metrics')
  async metrics(@Res({ passthrough: true }) res: unknown): Promise<string> {
    this.adapterHost.httpAdapter.setHeader(res, 'Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}

/** What `SESSION_METRICS` (`true` default | `false`) adds to the sample's module. */
export interface SampleMetrics {
  options: Pick<SessionModuleOptions, 'metrics'>;
  module: Pick<DynamicModule, 'controllers' | 'providers'>;
}

/** One registry per app instance: tests run several apps in one process, each with its own metrics. */
export function sampleMetricsFromEnv(): SampleMetrics {
  const raw = process.env.SESSION_METRICS ?? 'true';
  if (raw !== 'true' && raw !== 'false') throw new Error(`SESSION_METRICS must be true or false, got "${raw}"`);
  if (raw === 'false') return { options: {}, module: { controllers: [], providers: [] } };
  const registry = new Registry();
  return {
    options: { metrics: { registry } },
    module: { controllers: [MetricsController], providers: [{ provide: METRICS_REGISTRY, useValue: registry }] },
  };
}
