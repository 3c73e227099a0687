/**
 * Starts a dispatcher run where runs are started from outside (AWS: an asynchronous invocation of the
 * dispatcher function). Resolves once the start is accepted (queued), not when the run ends.
 */
export interface DispatcherWake {
  wake(): Promise<void>;
}
