import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../../src/api/app.js';
import { defineRoute } from '../../../src/api/route.js';
import { AppError, ERROR_CATALOGUE, ERROR_CODES, isErrorCode } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';

const ROOT = join(import.meta.dirname, '../../..');

function sources(): Array<{ file: string; text: string }> {
  return ['src', 'broker']
    .flatMap((dir) =>
      readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && e.name.endsWith('.ts'))
        .map((e) => relative(ROOT, join(e.parentPath, e.name))),
    )
    .map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));
}

describe('the error catalogue', () => {
  it('declares every GW_ERR_* code the gateway names, and no code is assembled at run time', () => {
    const named = new Set<string>();
    const assembled: string[] = [];
    for (const { file, text } of sources()) {
      for (const m of text.matchAll(/GW_ERR_[A-Z0-9_]*[A-Z0-9]/g)) named.add(m[0]);
      if (/GW_ERR_[A-Z0-9_]*\$\{/.test(text)) assembled.push(file);
    }
    expect(assembled).toEqual([]);
    expect([...named].filter((code) => !isErrorCode(code)).sort()).toEqual([]);
  });

  it('gives every code a 4xx or 5xx status and a title', () => {
    for (const code of ERROR_CODES) {
      const { status, title } = ERROR_CATALOGUE[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(title.length, code).toBeGreaterThan(3);
    }
  });
});

describe('every catalogued error leaves the API as its problem+json', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const route = defineRoute({
      method: 'get',
      path: '/fail/{code}',
      summary: 'throws the catalogued error named in the path',
      tags: ['test'],
      auth: 'public',
      params: z.object({ code: z.string() }),
      responses: {},
      handler({ params }) {
        if (!isErrorCode(params.code)) throw new Error('not a catalogued code');
        throw new AppError(params.code, `detail of ${params.code}`);
      },
    });
    const app = buildApp({ routes: [route], deps: {}, authenticate: async () => undefined, log: silentLogger });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(ERROR_CODES)('%s', async (code) => {
    const res = await fetch(`${base}/fail/${code}`);
    expect(res.status).toBe(ERROR_CATALOGUE[code].status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toEqual({
      type: `urn:gateway:error:${code}`,
      title: ERROR_CATALOGUE[code].title,
      status: ERROR_CATALOGUE[code].status,
      detail: `detail of ${code}`,
      code,
    });
  });

  it('an unexpected exception is GW_ERR_INTERNAL without its message', async () => {
    const res = await fetch(`${base}/fail/NOT_A_CODE`);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: 'GW_ERR_INTERNAL', detail: 'internal error' });
  });
});
