// autoglm/observability: pino logger (silent by default), Prometheus metrics, OpenTelemetry spans, instrument* adapters.
export { createLogger, type Logger } from './logger';
export { AutoglmMetrics, type AutoglmMetricsOptions } from './metrics';
export { withSpan, autoglmTracer, tracerName, type WithSpanOptions } from './tracing';
export { instrumentModel, spanAttributes, type InstrumentModelOptions } from './instrument-model';
export { instrumentToolCaller, type InstrumentToolCallerOptions } from './instrument-tool-caller';
export {
  instrumentWorkflowEvents,
  type InstrumentWorkflowOptions,
  type WorkflowInstrumentation,
} from './instrument-workflow';
