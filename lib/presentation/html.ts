/**
 * HTML built with a tagged template that escapes every interpolated value, so nothing from the ledger or
 * the stores (workflow IDs, categories, kill-switch reasons, tool names, error messages) can become
 * markup. Only `Html` values, built by `html` itself, are inserted as they are. The reports, the local
 * dashboard and its error pages all build their markup with it.
 */

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * What a template may interpolate. `false`, `null` and `undefined` render nothing, so
 * `${condition && html`…`}` works; `true` is not accepted: a boolean is a condition, never content
 * (write the words it stands for).
 */
export type HtmlValue = Html | string | number | false | null | undefined | readonly HtmlValue[];

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

function render(value: HtmlValue | boolean): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  // A boolean that slips past the type (through `any`) renders nothing either way.
  if (value === null || value === undefined || typeof value === 'boolean') return '';
  return escapeHtml(String(value));
}

/** A template whose interpolations are escaped (strings, numbers) or inserted as built (`Html`, arrays of them). */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}
