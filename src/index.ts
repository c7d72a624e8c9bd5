// The public API of autoglm, layer by layer (see DESIGN.md). Each layer is also its own entry point
// (`autoglm/models`, `autoglm/tools`, ...: package.json `exports`); ONNX Runtime, pdf.js and transformers.js load
// only when a model or a PDF is first used, so importing this entry loads no native code.
export * from './errors';
export * from './observability/index';
export * from './models/index';
export * from './tools/index';
export * from './agent/index';
export * from './workflows/index';

// server/ops: the model registry (hot update, rollback, leases, persisted history)
export { ModelRegistry } from './server/model-registry';
export type {
  ModelRegistryOptions,
  ModelRegistryEvent,
  ModelLease,
  ModelStatus,
  ModelSwitch,
  ModelVersionStatus,
} from './server/model-registry-options';
export type { ModelHistoryEntry } from './server/model-registry-store';
export { modelVersionId, type ModelDirectoryDigest } from './server/model-version-id';
