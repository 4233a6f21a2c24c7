/** stdout/stderr streams for running a subcommand in process, with what it wrote kept as text. */
import { PassThrough } from 'node:stream';

export interface CapturedIo {
  readonly io: { readonly stdout: PassThrough; readonly stderr: PassThrough };
  out(): string;
  err(): string;
}

export function captureIo(): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return { io: { stdout, stderr }, out: () => o, err: () => e };
}
