/** One storage part's answer to a health check (`GET /health`): the metadata store, each object store. */
export interface HealthPart {
  part: string;
  ok: boolean;
  /** Why it failed. */
  message?: string;
}
