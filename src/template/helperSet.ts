/**
 * Every helper haconfd templates can use, registered into one engine. Helpers that belong to a
 * higher layer (keepalived's) are passed in by the caller that renders with them (the daemon),
 * so template/ imports nothing above it.
 */
import { createTemplateEngine, type HelperRegistration, type TemplateEngine } from './engine.js';
import { registerStandardHelpers } from './helpers/index.js';
import { registerPatroniHelpers } from './helpers/patroni.js';
import { registerStoreHelpers } from './storeHelpers.js';

export const HELPER_REGISTRATIONS: readonly HelperRegistration[] = [registerStoreHelpers, registerStandardHelpers, registerPatroniHelpers];

export function createDefaultEngine(extra: readonly HelperRegistration[] = []): TemplateEngine {
  return createTemplateEngine([...HELPER_REGISTRATIONS, ...extra]);
}
