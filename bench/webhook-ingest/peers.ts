/**
 * The Node peers a user would pick instead of our gateway, each run as its own process on a free
 * port so every server gets the same CPU share: `node --import tsx peers.ts probot|octokit <port> <secret>`.
 * Both verify the signature and dispatch the event to a no-op handler; neither persists anything.
 */
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { createNodeMiddleware as probotMiddleware, createProbot } from 'probot';
import { Webhooks, createNodeMiddleware as octokitMiddleware } from '@octokit/webhooks';

const [kind, portArg, secret] = process.argv.slice(2);
if (!kind || !portArg || !secret) throw new Error('usage: peers.ts probot|octokit <port> <secret>');

let handle: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
if (kind === 'probot') {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const probot = createProbot({ overrides: { appId: 1, privateKey, secret, logLevel: 'fatal' } });
  const middleware = await probotMiddleware((app) => app.on('workflow_job', async () => undefined), { probot, webhooksPath: '/webhooks/github' });
  handle = (req, res) => void middleware(req, res, () => res.writeHead(404).end());
} else {
  const webhooks = new Webhooks({ secret });
  webhooks.on('workflow_job', async () => undefined);
  const middleware = octokitMiddleware(webhooks, { path: '/webhooks/github' });
  handle = (req, res) => void middleware(req, res, () => res.writeHead(404).end());
}
createServer(handle).listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
