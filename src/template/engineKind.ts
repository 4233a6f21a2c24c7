/** Which engine compiles a template: Go text/template (confd's `.tmpl`) or Handlebars. */
export type EngineKind = 'go' | 'handlebars';

/** The engine a template file gets by its name: `.tmpl` is Go text/template (confd's), anything else Handlebars. */
export function engineForPath(path: string): EngineKind {
  return path.endsWith('.tmpl') ? 'go' : 'handlebars';
}
