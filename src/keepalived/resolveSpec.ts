/**
 * Input → validated spec in one step: type problems first, then the rules; a field that could not
 * be read is reported once (its rule errors would only repeat it).
 */
import { validateChkSpec, type ChkHaproxySpec } from './chkSpec.js';
import { validateSpec, type KeepalivedSpec, type SpecError, type ValidationContext } from './spec.js';
import { chkSpecFromVars, keepalivedSpecFromVars, type SpecVars } from './specInput.js';

export interface Resolved<T> {
  readonly ok: boolean;
  readonly spec: T;
  readonly errors: SpecError[];
}

function combine(inputErrors: SpecError[], ruleErrors: readonly SpecError[]): SpecError[] {
  const unreadable = new Set(inputErrors.map((e) => e.field));
  return [...inputErrors, ...ruleErrors.filter((e) => !unreadable.has(e.field))];
}

export function resolveKeepalivedSpec(vars: SpecVars, ctx: ValidationContext = {}): Resolved<KeepalivedSpec> {
  const { spec, errors } = keepalivedSpecFromVars(vars);
  const all = combine(errors, validateSpec(spec, ctx).errors);
  return { ok: all.length === 0, spec, errors: all };
}

export function resolveChkSpec(vars: SpecVars): Resolved<ChkHaproxySpec> {
  const { spec, errors } = chkSpecFromVars(vars);
  const all = combine(errors, validateChkSpec(spec).errors);
  return { ok: all.length === 0, spec, errors: all };
}
