/**
 * The Node peers a user would pick instead of our gateway, each run as its own process on a free
 * port so every server gets the same CPU share:
 * `node --import tsx peers.ts probot|octokit|probot-persist <port> <secret> [nats url]`.
 *
 * `probot` and `octokit` verify the signature and dispatch the event to a no-op handler; they
 * persist nothing. `probot-persist` is the like-for-like peer (issue 28): a Probot app whose
 * `workflow_job` handler publishes the delivery to the same JetStream stream as the gateway (GITHUB,
 * subject gh.workflow_job.<action>) with the delivery GUID as Nats-Msg-Id, and awaits the PubAck
 * before Probot answers, as a user would build it (a failed publish throws, and Probot answers 500).
 */
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createNodeMiddleware as probotMiddleware, createProbot, type ApplicationFunction } from 'probot';
import { Webhooks, createNodeMiddleware as octokitMiddleware } from '@octokit/webhooks';

const [kind, portArg, secret, natsUrl] = process.argv.slice(2);
if (!kind || !portArg || !secret) throw new Error('usage: peers.ts probot|octokit|probot-persist <port> <secret> [nats url]');

let handle: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
if (kind === 'probot' || kind === 'probot-persist') {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const probot = createProbot({ overrides: { appId: 1, privateKey, secret, logLevel: 'fatal' } });
  let app: ApplicationFunction = (a) => a.on('workflow_job', async () => undefined);
  if (kind === 'probot-persist') {
    if (!natsUrl) throw new Error('probot-persist needs the NATS url');
    const js = jetstream(await connect({ servers: natsUrl }));
    // Probot hands the handler the parsed payload; the user republishes it as JSON, which is the
    // delivery's content (the gateway publishes its own protobuf translation of the same bytes).
    app = (a) =>
      a.on('workflow_job', async (context) => {
        await js.publish(`gh.workflow_job.${context.payload.action}`, JSON.stringify(context.payload), { msgID: context.id });
      });
  }
  const middleware = await probotMiddleware(app, { probot, webhooksPath: '/webhooks/github' });
  handle = (req, res) => void middleware(req, res, () => res.writeHead(404).end());
} else {
  const webhooks = new Webhooks({ secret });
  webhooks.on('workflow_job', async () => undefined);
  const middleware = octokitMiddleware(webhooks, { path: '/webhooks/github' });
  handle = (req, res) => void middleware(req, res, () => res.writeHead(404).end());
}
createServer(handle).listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
