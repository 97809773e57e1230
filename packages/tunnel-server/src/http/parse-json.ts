/** JSON the server reads back from outside (Redis, its own sealed or signed values, request bodies), checked by a zod schema. */
import type { z } from 'zod';

/** `text` parsed and checked against `schema`; undefined when it is not JSON or does not fit. */
export function parseJson<T extends z.ZodTypeAny>(schema: T, text: string): z.output<T> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as z.output<T>) : undefined;
  } catch {
    return undefined;
  }
}
