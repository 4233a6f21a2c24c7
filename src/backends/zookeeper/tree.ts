/**
 * The kept copy of the watched znode trees and confd's key mapping over it (pure: no I/O).
 *
 * Every znode observed is an entry with the arrival number (`seq`) of the observation; a later
 * observation of the same path replaces an earlier one and an earlier one never overwrites a later
 * one, so replies and watch events can be applied in any order that keeps each path's own order.
 * Deleted znodes stay as tombstones (value undefined) until the next full read.
 *
 * confd's mapping: a znode without children is a key whose value is its data (empty data: an
 * empty value); a znode with children is a directory — not a key, its data ignored.
 */
import type { ChangeEvent } from '../backend.js';
import { isUnderPrefix } from '../../store/keys.js';

export interface Observation {
  readonly path: string;
  /** Decoded data; undefined = the znode does not exist. */
  readonly value: string | undefined;
  readonly seq: number;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export class ZnodeTree {
  private readonly entries = new Map<string, { value: string | undefined; seq: number }>();
  private readonly children = new Map<string, number>();

  constructor(readonly prefixes: readonly string[]) {}

  covers(path: string): boolean {
    return this.prefixes.some((p) => isUnderPrefix(path, p));
  }

  private present(path: string): boolean {
    return this.entries.get(path)?.value !== undefined;
  }

  private isKey(path: string): boolean {
    return this.present(path) && (this.children.get(path) ?? 0) === 0;
  }

  private bumpParent(path: string, by: 1 | -1): void {
    const p = parentOf(path);
    if (p === path) return;
    const n = (this.children.get(p) ?? 0) + by;
    if (n <= 0) this.children.delete(p);
    else this.children.set(p, n);
  }

  /**
   * Applies one observation; returns the key changes it makes (at most one for the path and one
   * for its parent becoming or ceasing to be a directory), each with revision `o.seq`.
   */
  apply(o: Observation): ChangeEvent[] {
    if (!this.covers(o.path)) return [];
    const prev = this.entries.get(o.path);
    if (prev !== undefined && prev.seq >= o.seq) return [];
    const parent = parentOf(o.path);
    const wasKey = this.isKey(o.path);
    const parentWasKey = parent !== o.path && this.covers(parent) && this.isKey(parent);
    const wasPresent = prev?.value !== undefined;
    this.entries.set(o.path, { value: o.value, seq: o.seq });
    if (o.value !== undefined && !wasPresent) this.bumpParent(o.path, 1);
    if (o.value === undefined && wasPresent) this.bumpParent(o.path, -1);
    const out: ChangeEvent[] = [];
    const isKey = this.isKey(o.path);
    if (isKey && (!wasKey || prev?.value !== o.value)) out.push({ type: 'put', key: o.path, value: o.value as string, revision: o.seq });
    else if (!isKey && wasKey) out.push({ type: 'delete', key: o.path, revision: o.seq });
    if (parent !== o.path && this.covers(parent)) {
      const parentIsKey = this.isKey(parent);
      if (parentWasKey && !parentIsKey) out.push({ type: 'delete', key: parent, revision: o.seq });
      else if (!parentWasKey && parentIsKey) out.push({ type: 'put', key: parent, value: this.entries.get(parent)?.value as string, revision: o.seq });
    }
    return out;
  }

  /** Every key with its value (confd's mapping), in no particular order. */
  keys(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [path, e] of this.entries) {
      if (e.value !== undefined && (this.children.get(path) ?? 0) === 0) out.set(path, e.value);
    }
    return out;
  }

  /** Number of znodes present (directories included). */
  get znodeCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.value !== undefined) n++;
    return n;
  }
}
