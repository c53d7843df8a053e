// Photon answers every error as {"code", "status", "message", "errors"}. Validation errors nest
// by request location ({"json": {"field": ["msg"]}}); conflicts name the field directly
// ({"username": ["Taken."]}); nested schemas nest further ({"json": {"settings": {"fee": [..]}}}).

export type FieldErrors = Record<string, string[]>;

const LOCATIONS = new Set(['json', 'query', 'querystring', 'form', 'headers', 'files', 'path', 'cookies', 'view_args']);
/** Keys marshmallow uses for errors that belong to no single field. */
const GENERAL_KEYS = new Set(['_schema', '_general', '']);

export class ApiError extends Error {
  readonly status: number;
  readonly statusText: string;
  readonly errors: unknown;
  readonly fields: FieldErrors;
  readonly retryAfter: number | null;

  constructor(status: number, message: string, errors: unknown = {}, statusText = '', retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.statusText = statusText;
    this.errors = errors;
    this.fields = fieldErrors(errors);
    this.retryAfter = retryAfter;
  }

  /** The message of one field, if the server named it. */
  field(name: string): string | undefined {
    const list = this.fields[name];
    return list && list.length ? list.join(' ') : undefined;
  }

  /** Field errors the form shows nowhere else, plus whole-body ones. */
  unclaimed(shown: string[]): string[] {
    return Object.entries(this.fields)
      .filter(([name]) => !shown.includes(name))
      .flatMap(([name, msgs]) => (name === '_general' ? msgs : msgs.map((m) => `${name}: ${m}`)));
  }

  get offline(): boolean {
    return this.status === 0;
  }
}

/** Flatten either nesting into {"field": [...]} (nested fields as "parent.child"). */
export function fieldErrors(errors: unknown): FieldErrors {
  const out: FieldErrors = {};
  const add = (path: string, msgs: string[]) => {
    if (!msgs.length) return;
    const key = path || '_general';
    out[key] = [...(out[key] ?? []), ...msgs];
  };
  const walk = (value: unknown, path: string, depth: number) => {
    if (value == null) return;
    if (typeof value === 'string') return add(path, [value]);
    if (Array.isArray(value)) {
      const strings = value.filter((v): v is string => typeof v === 'string');
      add(path, strings);
      // A list field's per-item errors arrive as objects keyed by index.
      value.filter((v) => v && typeof v === 'object').forEach((v) => walk(v, path, depth + 1));
      return;
    }
    if (typeof value === 'object') {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        if (depth === 0 && LOCATIONS.has(key)) {
          walk(inner, path, depth + 1);
        } else if (GENERAL_KEYS.has(key)) {
          walk(inner, path, depth + 1);
        } else {
          walk(inner, path ? `${path}.${key}` : key, depth + 1);
        }
      }
    }
  };
  walk(errors, '', 0);
  return out;
}

/** What to tell a person about any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
