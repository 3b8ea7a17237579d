/** Engine errors. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

export class EngineError extends Error {
  override name = 'EngineError';
}

/** A feed or weight that does not match the graph (missing, wrong shape or dtype). */
export class FeedError extends Error {
  override name = 'FeedError';
}
