import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startEmbedded } from '../../lib/embedded';
import { httpSuite } from './suite';

httpSuite('embedded server over node:http', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'ferry-http-'));
  const ferry = await startEmbedded({ dataDir, port: 0 });
  return {
    fetch: (p, init) => fetch(`${ferry.url}${p}`, init),
    close: async () => {
      await ferry.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
