/** jest globalTeardown: stops the emulators globalSetup started. */
import type { RunningEmulators } from './emulators';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __ferryEmulators?: RunningEmulators }).__ferryEmulators?.stop();
}
