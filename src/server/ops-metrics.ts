/**
 * Gauges the alert rules need that no route records: whether `/readyz` would answer 200 (`autoglm_ready`), and
 * each model's queue limit (`autoglm_server_queue_limit`, running + waiting requests before 429), so saturation is
 * `autoglm_server_queue_depth / autoglm_server_queue_limit`. Both are computed when scraped.
 */
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { modelSequences } from '../models/language-model';
import type { ServerContext } from './server-context';

export function registerOpsMetrics(app: FastifyInstance, context: ServerContext): void {
  const registers = [context.metrics.registry];
  if (context.metrics.registry.getSingleMetric('autoglm_ready') !== undefined) return;
  new Gauge({
    name: 'autoglm_ready',
    help: '1 when GET /readyz answers 200 (every model loaded and warm), else 0.',
    registers,
    async collect() {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      this.set(response.statusCode === 200 ? 1 : 0);
    },
  });
  new Gauge({
    name: 'autoglm_server_queue_limit',
    help: 'Chat requests a model admits (running + waiting) before answering 429, by model name.',
    labelNames: ['model'],
    registers,
    collect() {
      this.reset();
      for (const { name } of context.models.list()) this.set({ model: name }, context.queue.limit(modelSequences(context.models.get(name)?.model)));
    },
  });
}
