/** `GET <issuer>/_testbed/scenarios`: the catalog as JSON (`Accept: application/json`) or as a page. */
import type { Middleware } from 'koa';
import { CONTROL_PATH } from '../endpoints.ts';
import { escapeHtml, layout } from '../provider/ui/pages.ts';
import type { ScenarioRuns } from './runs.ts';

export function scenarioCatalogRoute(options: { mountPath: string; runs: ScenarioRuns; guard: Middleware }): Middleware {
  const path = `${options.mountPath}${CONTROL_PATH}/scenarios`;
  return async function scenarioCatalog(ctx, next) {
    if (ctx.path !== path && ctx.path !== `${path}/`) return next();
    return options.guard(ctx, async () => {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.status = 405;
        ctx.set('Allow', 'GET, HEAD');
        ctx.body = { error: 'invalid_request', error_description: 'the catalog is read with GET' };
        return;
      }
      ctx.set('Cache-Control', 'no-store');
      const catalog = options.runs.catalog();
      if (ctx.accepts('json', 'html') === 'html') {
        ctx.type = 'html';
        ctx.body = layout(
          'Conformance scenarios',
          `<h1>Conformance scenarios</h1>
<p>${catalog.length} issuers that each break one rule on purpose. Point your relying party at one (or at <code>…/runs/&lt;id&gt;</code> for a run of its own) and read <code>&lt;issuer&gt;/_testbed/verdict</code>.</p>
<table><thead><tr><th>name</th><th>plans</th><th>defect</th><th>a correct RP…</th></tr></thead><tbody>
${catalog.map((entry) => `<tr><td><a href="${escapeHtml(entry.issuer)}/.well-known/openid-configuration"><code>${escapeHtml(entry.name)}</code></a></td><td>${escapeHtml(entry.plans.join(', '))}</td><td>${escapeHtml(entry.defect)}</td><td>${escapeHtml(entry.expect)}</td></tr>`).join('\n')}
</tbody></table>`,
          { wide: true },
        );
      } else {
        ctx.body = { scenarios: catalog };
      }
    });
  };
}
