/**
 * The limit: the least a Node webhook can do. It reads the body, parses the AdmissionReview and
 * answers "allowed"; for a Helm release Secret it also decodes the release the cheapest way there is
 * (base64, base64, gunzip, JSON.parse), with no limits, no logs, no metrics and no policies.
 *
 * Run as its own process: `node limit-server.js --port P --cert F --key F`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';

interface Review {
  request?: {
    uid?: string;
    operation?: string;
    object?: { kind?: string; type?: string; data?: { release?: string } };
  };
}

/** Decodes a release as Helm stores it: the cheapest path from the wire to a parsed object. */
export function decodeReleaseCheapest(dataRelease: string): unknown {
  const helmBase64 = Buffer.from(dataRelease, 'base64').toString('latin1');
  return JSON.parse(gunzipSync(Buffer.from(helmBase64, 'base64')).toString('utf8'));
}

/** Answers one review body; the release is decoded and dropped, as a policy would read and drop it. */
export function answer(body: Buffer): string {
  const review = JSON.parse(body.toString('utf8')) as Review;
  const req = review.request ?? {};
  const obj = req.object;
  if (req.operation === 'CREATE' && obj?.kind === 'Secret' && obj.type === 'helm.sh/release.v1') {
    decodeReleaseCheapest(obj.data?.release ?? '');
  }
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: req.uid ?? '', allowed: true },
  });
}

/** Starts the limit server; resolves once it listens. */
export function startLimitServer(opts: { port: number; cert: string; key: string }): Promise<Server> {
  const server = createServer(
    { cert: opts.cert, key: opts.key, minVersion: 'TLSv1.2', keepAliveTimeout: 120_000 },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let out: string;
        try {
          out = answer(Buffer.concat(chunks));
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"kind":"Status","code":400}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      });
    },
  );
  return new Promise((resolve) => server.listen(opts.port, '127.0.0.1', () => resolve(server)));
}

function main(): void {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
  });
  if (values.port === undefined || values.cert === undefined || values.key === undefined) {
    process.stderr.write('usage: limit-server --port P --cert FILE --key FILE\n');
    process.exit(2);
  }
  void startLimitServer({
    port: Number(values.port),
    cert: readFileSync(values.cert, 'utf8'),
    key: readFileSync(values.key, 'utf8'),
  }).then((server) => {
    const stop = (): void => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

if (process.argv[1] !== undefined && /limit-server\.(m?js|ts)$/.test(process.argv[1])) main();
