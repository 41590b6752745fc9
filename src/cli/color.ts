// Colours on a terminal, none when piped (NO_COLOR and FORCE_COLOR respected).
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: NodeJS.WriteStream): Colors {
  const env = process.env;
  const enabled = 'FORCE_COLOR' in env ? env.FORCE_COLOR !== '0' : !('NO_COLOR' in env) && stream.isTTY === true && env.TERM !== 'dumb';
  return pc.createColors(enabled);
}

export function isColor(c: Colors): boolean {
  return c.red('x') !== 'x';
}
