/** One storage part's answer to a health check (`GET /health`): the metadata store, each object store. */
export interface HealthPart {
  part: string;
  ok: boolean;
  /** Why it failed. */
  message?: string;
}

/** Runs each part's probe; a probe that throws marks its part failing, with the error's message. */
export function checkHealth(probes: Array<[part: string, probe: () => Promise<unknown>]>): Promise<HealthPart[]> {
  return Promise.all(
    probes.map(async ([part, probe]): Promise<HealthPart> => {
      try {
        await probe();
        return { part, ok: true };
      } catch (e) {
        return { part, ok: false, message: (e as Error).message };
      }
    }),
  );
}
