/**
 * HTML built with a tagged template that escapes every interpolated value, so nothing from the stores
 * (workflow IDs, kill-switch reasons, report titles, error messages) can become markup. Only values that
 * are themselves `html` results pass through unescaped.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for element content and for quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] as string);
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false || value === true) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/**
 * The page's link to an object of the reports bucket: each key segment percent-encoded, except the
 * characters a path segment may hold as they are (`week=2026-W47` stays readable).
 */
export function reportHref(key: string): string {
  const segment = (part: string) =>
    encodeURIComponent(part).replace(/%(3D|3A|40|2C)/g, (escaped) => decodeURIComponent(escaped));
  return `/reports/${key.split('/').map(segment).join('/')}`;
}
