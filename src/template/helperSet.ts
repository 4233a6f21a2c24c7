/** Every helper haconfd templates can use, registered into one engine. */
import { createTemplateEngine, type HelperRegistration, type TemplateEngine } from './engine.js';
import { registerStandardHelpers } from './helpers/index.js';
import { registerPatroniHelpers } from './helpers/patroni.js';
import { registerStoreHelpers } from './storeHelpers.js';
import { registerKeepalivedHelpers } from '../keepalived/helpers.js';

export const HELPER_REGISTRATIONS: readonly HelperRegistration[] = [registerStoreHelpers, registerStandardHelpers, registerPatroniHelpers, registerKeepalivedHelpers];

export function createDefaultEngine(): TemplateEngine {
  return createTemplateEngine(HELPER_REGISTRATIONS);
}
