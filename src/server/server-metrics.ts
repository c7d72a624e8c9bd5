/**
 * The server's own metrics, registered beside AutoglmMetrics' on the same private registry so `GET /metrics`
 * serves both. Names are stable (docs/server.md lists them; alert rules are written against them).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { AutoglmMetrics } from '../observability/metrics';

export class ServerMetrics {
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly inFlight: Gauge;
  readonly queueDepth: Gauge<'model'>;
  readonly rejected: Counter<'model' | 'reason'>;
  readonly runs: Gauge<'status'>;

  constructor(metrics: AutoglmMetrics, prefix = 'autoglm_') {
    const registers = [metrics.registry];
    this.requestDuration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'HTTP request duration, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.inFlight = new Gauge({ name: `${prefix}http_requests_in_flight`, help: 'HTTP requests being served.', registers });
    this.queueDepth = new Gauge({ name: `${prefix}server_queue_depth`, help: 'Chat requests running or waiting, by model name.', labelNames: ['model'], registers });
    this.rejected = new Counter({
      name: `${prefix}server_rejected_requests_total`,
      help: 'Requests refused before generation, by model name and reason (queue_full).',
      labelNames: ['model', 'reason'],
      registers,
    });
    this.runs = new Gauge({ name: `${prefix}server_runs`, help: 'Runs of the runs API known to this server, by status.', labelNames: ['status'], registers });
  }
}
