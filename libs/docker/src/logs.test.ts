import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { demuxLogLines } from './logs.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

describe('demuxLogLines', () => {
  it('joins stdout and stderr frames into lines and keeps the last ones', () => {
    const buffer = Buffer.concat([frame(1, 'one\ntw'), frame(2, 'o\nthree\n')]);
    expect(demuxLogLines(buffer)).toEqual(['one', 'two', 'three']);
    expect(demuxLogLines(buffer, 2)).toEqual(['two', 'three']);
  });

  it('reads plain (TTY) output as text and never throws on any bytes', () => {
    expect(demuxLogLines(Buffer.from('plain\ntext\n'))).toEqual(['plain', 'text']);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => Array.isArray(demuxLogLines(Buffer.from(bytes)))));
  });
});
