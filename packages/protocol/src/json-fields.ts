/**
 * Field readers for parsed JSON messages (control and signaling): each checks
 * one field's type and range and throws ERR_INVALID_PAYLOAD naming the field.
 */
import { protocolError } from './errors';

export type Obj = Record<string, unknown>;

export function str(o: Obj, k: string, max = 512, min = 0): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > max || v.length < min)
    throw protocolError('ERR_INVALID_PAYLOAD', `"${k}" must be a string of ${min > 0 ? `${min}-${max}` : `at most ${max}`} chars`);
  return v;
}

export function int(o: Obj, k: string, min: number, max: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw protocolError('ERR_INVALID_PAYLOAD', `"${k}" must be an integer in ${min}..${max}`);
  return v;
}

export function bool(o: Obj, k: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') throw protocolError('ERR_INVALID_PAYLOAD', `"${k}" must be a boolean`);
  return v;
}

export function onlyKeys(o: Obj, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw protocolError('ERR_INVALID_PAYLOAD', `unknown field "${k}"`);
}

/** `what` names the value in the error. */
export function asObject(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw protocolError('ERR_INVALID_PAYLOAD', `${what} must be an object`);
  return v as Obj;
}

export function obj(o: Obj, k: string): Obj {
  return asObject(o[k], `"${k}"`);
}

/** `v` when it is one of `values`; `name` names it in the error. */
export function oneOf<T extends string>(v: unknown, name: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    throw protocolError('ERR_INVALID_PAYLOAD', `"${name}" must be one of ${values.join(', ')}`);
  return v as T;
}

/** A JSON text of at most `max` chars holding an object; `what` names the message in the errors. */
export function parseJsonObject(text: string, max: number, what: string): Obj {
  if (text.length > max) throw protocolError('ERR_INVALID_PAYLOAD', `${what} over ${max} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw protocolError('ERR_INVALID_PAYLOAD', `${what} is not JSON`);
  }
  return asObject(v, what);
}

export function num(o: Obj, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 3_600_000)
    throw protocolError('ERR_INVALID_PAYLOAD', `"${k}" must be a non-negative number`);
  return v;
}
