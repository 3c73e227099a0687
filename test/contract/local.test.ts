import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FsObjectStore } from '../../lib/adapters/local/fs-object-store';
import { SqliteMetadataStore } from '../../lib/adapters/local/sqlite-metadata-store';
import { logContract, metadataStoreContract, objectStoreContract } from './suites';

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'ferry-contract-'));
  dirs.push(d);
  return d;
};
const cleanup = async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
};

objectStoreContract('FsObjectStore', {
  make: async () => new FsObjectStore('s0', await tempDir()).open(),
  cleanup,
});

metadataStoreContract('SqliteMetadataStore', {
  make: async () => new SqliteMetadataStore(path.join(await tempDir(), 'meta.sqlite')),
  cleanup,
});

logContract('local (FsObjectStore + SqliteMetadataStore)', {
  make: async () => {
    const dir = await tempDir();
    return {
      meta: new SqliteMetadataStore(path.join(dir, 'meta.sqlite')),
      stores: [await new FsObjectStore('s0', path.join(dir, 'store')).open()],
    };
  },
  cleanup,
});
