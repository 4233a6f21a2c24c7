/** A resource that failed at one stage of its pipeline; the stage is part of the message. */
export type ResourceStage = 'template' | 'render' | 'min_keys' | 'stage' | 'check' | 'commit' | 'reload';

export class ResourceError extends Error {
  override readonly name = 'ResourceError';
  constructor(
    readonly resource: string,
    readonly stage: ResourceStage,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${resource}: ${stage} failed: ${message}`, options);
  }
}
