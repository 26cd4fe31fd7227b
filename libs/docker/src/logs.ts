/**
 * Container logs without a TTY come multiplexed: frames of an 8-byte header [stream, 0, 0, 0,
 * size (uint32 BE)] and then `size` bytes (Docker Engine API, ContainerAttach). Returns the text of
 * the frames as lines, the last `limit` of them.
 */
export function demuxLogLines(buffer: Buffer, limit = 50): string[] {
  const parts: string[] = [];
  let offset = 0;
  const framed = buffer.length >= 8 && (buffer[0] === 1 || buffer[0] === 2) && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!framed) return tail(buffer.toString('utf8'), limit);
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    const end = Math.min(buffer.length, offset + 8 + size);
    parts.push(buffer.subarray(offset + 8, end).toString('utf8'));
    offset = end;
  }
  return tail(parts.join(''), limit);
}

function tail(text: string, limit: number): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  // Runner output can carry very long lines (a base64 blob); facts stay small.
  return lines.slice(-limit).map((l) => (l.length > 500 ? `${l.slice(0, 500)}…` : l));
}
