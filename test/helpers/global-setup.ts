/** jest globalSetup: starts the AWS emulators once per run (see emulators.ts); test files await them. */
import { startEmulators, useEmulatorEnv } from './emulators';

export default async function globalSetup(): Promise<void> {
  const emulators = await startEmulators();
  useEmulatorEnv(emulators.env);
  (globalThis as { __ferryEmulators?: typeof emulators }).__ferryEmulators = emulators;
}
