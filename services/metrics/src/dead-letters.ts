import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { contractsCodec, headerNames, type DeadLetter } from '@runnerhub/contracts';
import { badRequest, notFound, type HttpServer } from '@runnerhub/platform';
import { Type } from '@sinclair/typebox';

/**
 * Admin API over the DEAD stream: what consumers gave up on, why, and a way back. A replay publishes
 * the original bytes and headers to the original subject under a new message id (the old one may
 * still be in the stream's duplicate window), addressed to the consumer that gave up on it
 * (`rh-replay-for`: the stream's other consumers, which handled the original, skip it; counting a
 * fact twice is what a replay must not do), and removes the dead letter. Deleting drops it for good.
 */

/** How far back a listing looks (the stream keeps 30 days; a listing is for what is recent). */
const SCAN_LIMIT = 2_000;

const Letter = Type.Object({
  seq: Type.Integer({ description: 'sequence in the DEAD stream: the id for inspect, replay and delete' }),
  stream: Type.String(),
  consumer: Type.String(),
  subject: Type.String(),
  streamSequence: Type.Integer({ description: 'the original message in its stream' }),
  deliveries: Type.Integer(),
  reason: Type.String(),
  failedAt: Type.Union([Type.String(), Type.Null()]),
  bytes: Type.Integer(),
});
const Detail = Type.Composite([Letter, Type.Object({ headers: Type.Record(Type.String(), Type.String()), dataBase64: Type.String(), decoded: Type.Union([Type.Unknown(), Type.Null()], { description: 'the message as its schema reads it, when it decodes' }) })]);
const Seq = Type.Object({ seq: Type.Integer({ minimum: 1 }) });

interface Found {
  seq: number;
  letter: DeadLetter;
}

function view({ seq, letter }: Found) {
  return {
    seq,
    stream: letter.stream,
    consumer: letter.consumer,
    subject: letter.subject,
    streamSequence: Number(letter.streamSequence),
    deliveries: letter.deliveries,
    reason: letter.reason,
    failedAt: letter.failedAt ? new Date(Number(letter.failedAt.seconds) * 1000).toISOString() : null,
    bytes: letter.data.length,
  };
}

function decodeOriginal(letter: DeadLetter): unknown {
  try {
    return JSON.parse(JSON.stringify(contractsCodec.decode(letter.subject, letter.data), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `${v.length} bytes` : v)));
  } catch {
    return null;
  }
}

export function registerDeadLetterRoutes(app: HttpServer, nc: NatsConnection): void {
  let manager: Promise<JetStreamManager> | undefined;
  const jsm = () => (manager ??= jetstreamManager(nc));

  const read = async (seq: number): Promise<Found | undefined> => {
    const m = await (await jsm()).streams.getMessage('DEAD', { seq }).catch(() => null);
    if (!m) return undefined;
    return { seq, letter: contractsCodec.decode(m.subject, m.data) as DeadLetter };
  };
  const readOr404 = async (seq: number): Promise<Found> => {
    const found = await read(seq);
    if (!found) throw notFound(`no dead letter ${seq} (replayed, deleted or older than the stream keeps)`);
    return found;
  };

  app.get(
    '/api/dead-letters',
    {
      schema: {
        summary: 'Dead letters, newest first: what a consumer gave up on and why',
        querystring: Type.Object({ stream: Type.Optional(Type.String({ pattern: '^[A-Z0-9_]+$' })), limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
        response: { 200: Type.Object({ deadLetters: Type.Array(Letter), total: Type.Integer({ description: 'dead letters in the stream' }) }) },
      },
    },
    async (req) => {
      const info = await (await jsm()).streams.info('DEAD');
      const found: Found[] = [];
      for (let seq = info.state.last_seq; seq >= Math.max(info.state.first_seq, info.state.last_seq - SCAN_LIMIT) && found.length < req.query.limit; seq--) {
        const letter = await read(seq);
        if (letter && (!req.query.stream || letter.letter.stream === req.query.stream)) found.push(letter);
      }
      return { deadLetters: found.map(view), total: info.state.messages };
    },
  );
  app.get('/api/dead-letters/:seq', { schema: { summary: 'One dead letter with its original headers and bytes', params: Seq, response: { 200: Detail } } }, async (req) => {
    const found = await readOr404(req.params.seq);
    return { ...view(found), headers: found.letter.headers, dataBase64: Buffer.from(found.letter.data).toString('base64'), decoded: decodeOriginal(found.letter) };
  });
  app.post(
    '/api/dead-letters/:seq/replay',
    { schema: { summary: 'Publish the original message again (new message id) for the consumer that gave up on it, and remove the dead letter', params: Seq, response: { 200: Type.Object({ subject: Type.String(), msgId: Type.String(), seq: Type.Integer(), consumer: Type.String({ description: 'the durable consumer it goes back to; the others skip it' }) }) } } },
    async (req) => {
      const { letter } = await readOr404(req.params.seq);
      if (!letter.subject) throw badRequest(`dead letter ${req.params.seq} has no original subject`);
      const h = natsHeaders();
      for (const [name, value] of Object.entries(letter.headers)) if (name !== headerNames.msgId && name !== headerNames.replayFor) h.set(name, value);
      const msgId = `replay:${req.params.seq}:${letter.headers[headerNames.msgId] ?? `${letter.stream}:${letter.streamSequence}`}`;
      h.set(headerNames.msgId, msgId);
      h.set(headerNames.replayFor, letter.consumer);
      const ack = await (await jsm()).jetstream().publish(letter.subject, letter.data, { headers: h, msgID: msgId });
      await (await jsm()).streams.deleteMessage('DEAD', req.params.seq);
      return { subject: letter.subject, msgId, seq: ack.seq, consumer: letter.consumer };
    },
  );
  app.delete('/api/dead-letters/:seq', { schema: { summary: 'Drop a dead letter for good', params: Seq, response: { 200: Type.Object({ deleted: Type.Integer() }) } } }, async (req) => {
    await readOr404(req.params.seq);
    await (await jsm()).streams.deleteMessage('DEAD', req.params.seq);
    return { deleted: req.params.seq };
  });
}
