/**
 * One loaded model version and the requests holding it. A version that is replaced (or unloaded after its grace
 * period) is retired: it takes no new leases and is disposed when the last request that started on it releases.
 */
import { ModelRegistryError } from '../errors';
import type { LanguageModel } from '../models/language-model';
import { leasingModel } from './leasing-model';
import type { ModelLease, ModelVersionStatus } from './model-registry-options';

export interface LoadFigures {
  fileBytes: number;
  loadMs: number;
  warmMs: number;
  rssDeltaBytes: number;
}

export class LoadedModel {
  #leases = 0;
  #retired = false;
  #disposing = false;
  #resolveDisposed: () => void = () => {};
  /** Resolves once the model is disposed (after `retire` and the last release). */
  readonly disposed = new Promise<void>((resolve) => {
    this.#resolveDisposed = resolve;
  });

  constructor(
    readonly model: LanguageModel,
    readonly figures: LoadFigures,
    private readonly onDisposeError: (error: unknown) => void,
  ) {}

  #serving: LanguageModel | undefined;

  /** The model for one version, leasing it per call (what the server's ModelProvider hands out). */
  serving(name: string, version: string): LanguageModel {
    this.#serving ??= leasingModel(this.model, () => this.lease(name, version));
    return this.#serving;
  }

  get leases(): number {
    return this.#leases;
  }

  get retired(): boolean {
    return this.#retired;
  }

  lease(name: string, version: string): ModelLease {
    if (this.#disposing) {
      // A model handed out by `get` (a run's model) outlived its version: two updates replaced it and it drained.
      throw new ModelRegistryError(
        `Version ${version} of model "${name}" was unloaded after later versions replaced it; get the model again (registry.get or acquire) to run on the active version.`,
        { details: { name, version } },
      );
    }
    this.#leases += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#leases -= 1;
      if (this.#retired && this.#leases === 0) this.#dispose();
    };
    return { name, version, model: this.model, release, [Symbol.dispose]: release };
  }

  /** No new leases from here; disposed once the current ones are released. Resolves when disposed. */
  retire(): Promise<void> {
    this.#retired = true;
    if (this.#leases === 0) this.#dispose();
    return this.disposed;
  }

  #dispose(): void {
    if (this.#disposing) return;
    this.#disposing = true;
    this.model
      .dispose()
      .catch((error: unknown) => this.onDisposeError(error))
      .finally(() => this.#resolveDisposed());
  }
}

/** A version a model had or has: where it came from, and its loaded model while it is loaded. */
export class VersionRef {
  loaded: LoadedModel | undefined;

  constructor(
    readonly version: string,
    readonly directory: string,
    public activatedAt: number,
    readonly fileBytes: number,
  ) {}

  status(loaded: LoadedModel | undefined = this.loaded): ModelVersionStatus {
    const figures = loaded?.figures;
    return {
      version: this.version,
      directory: this.directory,
      activatedAt: this.activatedAt,
      loaded: loaded !== undefined && !loaded.retired,
      inFlight: loaded?.leases ?? 0,
      fileBytes: this.fileBytes,
      ...(figures === undefined ? {} : { rssDeltaBytes: figures.rssDeltaBytes, loadMs: figures.loadMs, warmMs: figures.warmMs }),
    };
  }
}
