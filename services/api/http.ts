import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';

/**
 * Errors an API route answers with: a status and a message a person can act
 * on, as JSON `{"error": "..."}`; never a stack trace or SQL.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: readonly string[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what = 'not found') => new HttpError(404, what);

/** A route handler whose rejections reach the error middleware. */
export function route(fn: (req: Request, res: Response) => Promise<void> | void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };
}

/** Zod's issues as lines like `level: must be 1, 2, 3 or 4`. */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((i) => {
    // A list's item is named by the list: `level: must be 1, 2, 3 or 4`, not `level.0: …`.
    const path = i.path.filter((p, k) => !(typeof p === 'number' && k === i.path.length - 1)).join('.');
    const message = i.message.length > 200 ? `${i.message.slice(0, 199)}…` : i.message;
    return path === '' ? message : `${path}: ${message}`;
  });
}

/** The value parsed by the schema, or a 400 naming every problem. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const lines = issueLines(r.error);
    throw new HttpError(400, `invalid ${what}: ${lines.join('; ')}`, lines);
  }
  return r.data;
}
