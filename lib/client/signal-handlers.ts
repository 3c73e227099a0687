/**
 * SIGINT / SIGTERM handlers that stop a consumer cleanly (finish, commit, leave the group) and then let the
 * signal take its course, unless the application handles it too. Returns the function that removes them.
 */
export function installSignalHandlers(stop: () => Promise<void>): () => void {
  const installed: Array<[NodeJS.Signals, () => void]> = [];
  for (const sig of ['SIGINT', 'SIGTERM'] as NodeJS.Signals[]) {
    const fn = () => {
      void stop().finally(() => {
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    };
    process.once(sig, fn);
    installed.push([sig, fn]);
  }
  return () => {
    for (const [sig, fn] of installed) process.removeListener(sig, fn);
  };
}
