/**
 * Reads a form oidc-provider hands to a page source (its `userCodeInputSource`, from
 * lib/helpers/user_code_form.js): the action and the fields it expects back, so that a page can
 * render the form its own way (labelled, one field per name) and still post what the engine checks.
 */

export interface EngineFormInput {
  name: string;
  type: string;
  value: string;
}

export interface EngineForm {
  id?: string;
  action: string;
  inputs: EngineFormInput[];
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

function attributesOf(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [, name, value] of source.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) {
    attributes[name.toLowerCase()] = (value ?? '').replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]);
  }
  return attributes;
}

/** The first form of `html`; throws when there is none or it has no action (the engine's markup changed). */
export function readEngineForm(html: string): EngineForm {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  const attributes = form ? attributesOf(form[1]) : {};
  if (!form || !attributes.action) throw new Error('oidc-provider passed no form with an action to the page');
  const inputs = [...form[2].matchAll(/<input\b([^>]*?)\/?>/gi)].map(([, source]) => {
    const input = attributesOf(source);
    return { name: input.name ?? '', type: (input.type ?? 'text').toLowerCase(), value: input.value ?? '' };
  });
  return { id: attributes.id, action: attributes.action, inputs: inputs.filter((input) => input.name !== '') };
}
