import { parseArgs } from 'node:util';
import { loadCliEnv, loadConfig } from '../config.js';
import { formatVerification } from './format.js';
import { rotateSigningKey, verifyLog, verifyReport } from './trust.js';

const USAGE = `usage: gateway verify --contract <id> [--at <ISO time>] [--window-days N] [--min-active-days N]
                      [--min-online-minutes N] [--json] [--url http://host:port] [--key <api key>]

  Prints a contract's verification: required vs active devices, per-device evidence, signals.
  GATEWAY_URL and GATEWAY_API_KEY may replace --url and --key.

       gateway verify-report <report.jws> --jwks <file|url> [--json]
  Checks a signed report (GET …/verification with Accept: application/jose) offline: signature
  against the JWKS, the report's own digest; prints the report and the audit tree head it names.

       gateway verify-log --from <saved tree head> [--url http://host:port] [--jwks <file|url>] [--save <file>]
  Proves that the audit log still begins with the entries of a saved tree head (RFC 9162
  consistency proof against the current signed head).

       gateway rotate-signing-key [--file <key file>]
  Makes a fresh Ed25519 key active; the old one stays published. Default file: GATEWAY_SIGNING_KEY_FILE.`;

/** `npx gateway verify …` — the verification for reviewers without the web page. */
export async function run(argv: string[], out: (s: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'verify-report' || command === 'verify-log' || command === 'rotate-signing-key') return runTrust(command, rest, out);
  if (command !== 'verify') {
    out(USAGE);
    return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      contract: { type: 'string' },
      at: { type: 'string' },
      'window-days': { type: 'string' },
      'min-active-days': { type: 'string' },
      'min-online-minutes': { type: 'string' },
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      key: { type: 'string' },
    },
  });
  const env = loadCliEnv();
  const key = values.key ?? env.apiKey;
  if (!values.contract || !key) {
    out(`${!values.contract ? 'missing --contract' : 'missing --key (or GATEWAY_API_KEY)'}\n${USAGE}`);
    return 2;
  }
  const query = new URLSearchParams();
  if (values.at) query.set('at', values.at);
  if (values['window-days']) query.set('windowDays', values['window-days']);
  if (values['min-active-days']) query.set('minActiveDays', values['min-active-days']);
  if (values['min-online-minutes']) query.set('minOnlineMinutes', values['min-online-minutes']);
  const url = `${values.url ?? env.url}/v1/contracts/${encodeURIComponent(values.contract)}/verification?${query}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  const body = await res.json();
  if (!res.ok) {
    out(`error ${res.status}: ${body.detail ?? body.title}${body.errors ? `\n${body.errors.map((e: { path: string; message: string }) => `  ${e.path}: ${e.message}`).join('\n')}` : ''}`);
    return 1;
  }
  out(values.json ? JSON.stringify(body, null, 2) : formatVerification(body));
  return 0;
}

async function runTrust(command: 'verify-report' | 'verify-log' | 'rotate-signing-key', args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      jwks: { type: 'string' },
      json: { type: 'boolean', default: false },
      from: { type: 'string' },
      url: { type: 'string' },
      save: { type: 'string' },
      file: { type: 'string' },
    },
  });
  if (command === 'rotate-signing-key') return rotateSigningKey(values.file ?? loadConfig().signingKeyFile, out);
  if (command === 'verify-report') {
    if (positionals.length !== 1 || !values.jwks) {
      out(`${positionals.length !== 1 ? 'give one report file' : 'missing --jwks'}\n${USAGE}`);
      return 2;
    }
    return verifyReport(positionals[0]!, values.jwks, values.json, out);
  }
  if (!values.from) {
    out(`missing --from\n${USAGE}`);
    return 2;
  }
  return verifyLog(
    { from: values.from, url: values.url ?? loadCliEnv().url, ...(values.jwks ? { jwks: values.jwks } : {}), ...(values.save ? { save: values.save } : {}) },
    out,
  );
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bin/gateway.js')) {
  run(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
