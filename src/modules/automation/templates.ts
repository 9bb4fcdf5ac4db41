import Mustache from 'mustache';
import { badField } from '../../kernel/errors';

/** What a template may name: `{{record.<field>}}`, `{{record.customFields.<key>}}`, `{{rule.name}}`, `{{event.type}}`. */
interface TemplateScope {
  recordFields: ReadonlySet<string> | null;
}

const FIXED = new Set(['rule.name', 'event.type', 'event.id', 'now']);

/**
 * Checks a template when a rule is saved: it must parse, use plain variables only (no sections or
 * partials), and name only what will exist when it is rendered; `field` names it in the error.
 */
export function checkTemplate(template: unknown, scope: TemplateScope, field: string, required = true): string | null {
  if (template == null || template === '') {
    if (required) throw badField(field, 'is required');
    return null;
  }
  if (typeof template !== 'string' || template.length > 5000) throw badField(field, 'must be a text of at most 5000 characters');
  let tokens: unknown[][];
  try {
    tokens = Mustache.parse(template) as unknown[][];
  } catch (err) {
    throw badField(field, `is not a valid template: ${(err as Error).message}`);
  }
  for (const t of tokens) {
    const [kind, name] = t as [string, string];
    if (kind === 'text') continue;
    if (kind !== 'name' && kind !== '&') throw badField(field, `uses {{${kind}${name}}}: only plain {{variables}} are allowed`);
    if (FIXED.has(name)) continue;
    const m = /^record\.(customFields\.[a-z][a-zA-Z0-9_]*|[a-zA-Z][a-zA-Z0-9]*)$/.exec(name);
    if (!m || !scope.recordFields) throw badField(field, `names {{${name}}}, which does not exist${scope.recordFields ? '' : ' (the trigger has no record)'}`);
    if (!m[1].startsWith('customFields.') && !scope.recordFields.has(m[1])) throw badField(field, `names {{${name}}}: the record has no field ${m[1]}`);
  }
  return template;
}

/** Renders a checked template as plain text (no HTML escaping); a missing value renders empty. */
export function renderTemplate(template: string, view: Record<string, unknown>): string {
  return Mustache.render(template, view, {}, { escape: (v: unknown) => String(v) });
}
